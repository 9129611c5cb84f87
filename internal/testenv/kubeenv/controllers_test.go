package kubeenv

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// controllersTimeout bounds each wait for a controller to act; they act
// within a second or two when idle.
const controllersTimeout = 60 * time.Second

// TestControllers runs the real kube-controller-manager and kube-scheduler
// on the "controllers" cluster and checks, in order on one namespace, what
// the conformance run relies on: a Deployment becomes a ReplicaSet and
// Pods bound to the Node; a Service gets an EndpointSlice of its ready
// Pods; deleting the Deployment garbage-collects the rest; deleting the
// namespace completes; and the controllers come back with the cluster.
// The test plays kubelet: it registers the Node, renews its Lease, marks
// Pods ready and finishes their graceful deletion.
func TestControllers(t *testing.T) {
	env := shared.Env(t)
	c := env.Cluster("controllers")
	c.RequireControllers(t)
	client := c.Clientset()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	const ns, node = "controllers-test", "controllers-node"
	registerNode(ctx, t, client, node)
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "web"}

	if !t.Run("deployment becomes scheduled pods", func(t *testing.T) {
		dep := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.invalid/web:v1"}}},
				},
			},
		}
		dep, err := client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "2 Pods of Deployment web bound to "+node, func() (string, bool) {
			pods := webPods(ctx, t, client, ns)
			var rsOwned, bound int
			for _, p := range pods {
				if owner := metav1.GetControllerOf(&p); owner != nil && owner.Kind == "ReplicaSet" && ownedBy(ctx, client, ns, owner.Name, dep.UID) {
					rsOwned++
				}
				if p.Spec.NodeName == node {
					bound++
				}
			}
			return fmt.Sprintf("%d Pods, %d owned by the Deployment's ReplicaSet, %d bound", len(pods), rsOwned, bound),
				len(pods) == 2 && rsOwned == 2 && bound == 2
		})
	}) {
		return // each step works on what the one before made
	}

	if !t.Run("service gets endpointslice of ready pods", func(t *testing.T) {
		pods := webPods(ctx, t, client, ns)
		if len(pods) != 2 {
			t.Fatalf("%d Pods of Deployment web, want 2", len(pods))
		}
		var want []string
		for i, p := range pods {
			ip := fmt.Sprintf("198.18.72.%d", 10+i)
			want = append(want, ip)
			markReady(ctx, t, client, &p, ip)
		}
		if _, err := client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
			Spec: corev1.ServiceSpec{
				Selector: labels,
				Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
			},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "EndpointSlice of Service web with "+fmt.Sprint(want)+" ready on port 8080", func() (string, bool) {
			got := readyAddresses(ctx, t, client, ns, "web", 8080)
			return fmt.Sprint(got), cmp.Equal(want, got)
		})
		waitFor(t, "Deployment web status 2 available", func() (string, bool) {
			d, err := client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err.Error(), false
			}
			return fmt.Sprintf("availableReplicas %d", d.Status.AvailableReplicas), d.Status.AvailableReplicas == 2
		})
	}) {
		return // each step works on what the one before made
	}

	if !t.Run("deleting deployment collects replicaset and pods", func(t *testing.T) {
		if err := client.AppsV1().Deployments(ns).Delete(ctx, "web", metav1.DeleteOptions{
			PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "no ReplicaSets and no Pods left in "+ns, func() (string, bool) {
			// As a kubelet would once the containers stopped: without
			// one, a bound Pod's graceful deletion never ends.
			pods := webPods(ctx, t, client, ns)
			for _, p := range pods {
				if p.DeletionTimestamp != nil {
					err := client.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
					if err != nil && !apierrors.IsNotFound(err) {
						t.Errorf("finish deleting Pod %s: %v", p.Name, err)
					}
				}
			}
			rs, err := client.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("%d ReplicaSets, %d Pods", len(rs.Items), len(pods)), len(rs.Items) == 0 && len(pods) == 0
		})
		waitFor(t, "EndpointSlice of Service web emptied", func() (string, bool) {
			got := readyAddresses(ctx, t, client, ns, "web", 8080)
			return fmt.Sprint(got), len(got) == 0
		})
	}) {
		return // each step works on what the one before made
	}

	if !t.Run("namespace has default serviceaccount and root ca", func(t *testing.T) {
		waitFor(t, "ServiceAccount default and ConfigMap kube-root-ca.crt in "+ns, func() (string, bool) {
			_, saErr := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			cm, cmErr := client.CoreV1().ConfigMaps(ns).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
			ok := saErr == nil && cmErr == nil && cm.Data["ca.crt"] == string(env.pki.caPEM)
			return fmt.Sprintf("ServiceAccount: %v, ConfigMap: %v", saErr, cmErr), ok
		})
	}) {
		return // each step works on what the one before made
	}

	if !t.Run("namespace deletion completes", func(t *testing.T) {
		if err := client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "Namespace "+ns+" gone", func() (string, bool) {
			n, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return "", true
			}
			if err != nil {
				return err.Error(), false
			}
			return fmt.Sprintf("phase %s, conditions %v", n.Status.Phase, n.Status.Conditions), false
		})
	}) {
		return // each step works on what the one before made
	}

	t.Run("controllers restart with the cluster", func(t *testing.T) {
		t.Cleanup(func() {
			if err := c.Start(); err != nil {
				t.Errorf("restart in cleanup: %v", err)
			}
		})
		c.mu.Lock()
		before := slices.Clone(c.controllers)
		c.mu.Unlock()
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		for _, p := range before {
			if !p.exited() {
				t.Errorf("%s (pid %d) still running after the cluster stopped", p.name, p.cmd.Process.Pid)
			}
		}
		if c.ControllersRunning() {
			t.Fatal("ControllersRunning after the cluster stopped")
		}
		start := time.Now()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Logf("apiserver and controllers restarted in %v", time.Since(start).Round(time.Millisecond))
		if !c.ControllersRunning() {
			t.Fatal("controllers not running after the cluster started again")
		}
		// The restarted controller-manager acts: the serviceaccount
		// controller fills a new namespace.
		const ns2 = "controllers-restarted"
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns2}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "ServiceAccount default in "+ns2, func() (string, bool) {
			_, err := client.CoreV1().ServiceAccounts(ns2).Get(ctx, "default", metav1.GetOptions{})
			return fmt.Sprint(err), err == nil
		})
	})
}

// registerNode creates a Ready Node with room for Pods and renews its
// Lease until the test ends, as a kubelet would: without the renewals the
// node-lifecycle controller taints it unreachable after its grace period
// and the scheduler avoids it.
func registerNode(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	room := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	n, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	n.Status = corev1.NodeStatus{
		Capacity:    room,
		Allocatable: room,
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "198.18.72.1"}},
	}
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	leases := client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	lease, err := leases.Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "Node", Name: name, UID: n.UID,
		}}},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime: &metav1.MicroTime{Time: time.Now()},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
			updated, err := leases.Update(ctx, lease, metav1.UpdateOptions{})
			if err != nil {
				// The cluster may be restarting (the restart subtest);
				// the next tick tries again with a fresh copy.
				if fresh, getErr := leases.Get(ctx, name, metav1.GetOptions{}); getErr == nil {
					lease = fresh
				}
				continue
			}
			lease = updated
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
}

// webPods lists the Pods of the Deployment web.
func webPods(ctx context.Context, t *testing.T, client kubernetes.Interface, ns string) []corev1.Pod {
	t.Helper()
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// ownedBy reports whether ReplicaSet rs is controlled by the object uid.
func ownedBy(ctx context.Context, client kubernetes.Interface, ns, rs string, uid types.UID) bool {
	r, err := client.AppsV1().ReplicaSets(ns).Get(ctx, rs, metav1.GetOptions{})
	if err != nil {
		return false
	}
	owner := metav1.GetControllerOf(r)
	return owner != nil && owner.Kind == "Deployment" && owner.UID == uid
}

// markReady writes what a kubelet reports for a running, ready Pod.
func markReady(ctx context.Context, t *testing.T, client kubernetes.Interface, p *corev1.Pod, ip string) {
	t.Helper()
	now := metav1.Now()
	p.Status.Phase = corev1.PodRunning
	p.Status.HostIP = "198.18.72.1"
	p.Status.PodIP = ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	p.Status.StartTime = &now
	for _, ct := range []corev1.PodConditionType{corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: ct, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: "web", Image: p.Spec.Containers[0].Image, Ready: true, Started: ptr.To(true),
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
	}}
	if _, err := client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("mark Pod %s ready: %v", p.Name, err)
	}
}

// readyAddresses lists, sorted, the ready addresses the EndpointSlices of
// Service svc give for port.
func readyAddresses(ctx context.Context, t *testing.T, client kubernetes.Interface, ns, svc string, port int32) []string {
	t.Helper()
	slices_, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range slices_.Items {
		if !slices.ContainsFunc(s.Ports, func(p discoveryv1.EndpointPort) bool { return p.Port != nil && *p.Port == port }) {
			continue
		}
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				out = append(out, e.Addresses...)
			}
		}
	}
	slices.Sort(out)
	return out
}

// waitFor polls cond every 200 ms until it holds, failing t after
// controllersTimeout with cond's last description of what it saw.
func waitFor(t *testing.T, what string, cond func() (state string, ok bool)) {
	t.Helper()
	const interval = 200 * time.Millisecond
	deadline := time.Now().Add(controllersTimeout)
	var state string
	for i := 0; i < int(controllersTimeout/interval); i++ {
		var ok bool
		if state, ok = cond(); ok {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(interval)
	}
	t.Fatalf("waiting for %s: not within %v (last: %s)", what, controllersTimeout, state)
}
