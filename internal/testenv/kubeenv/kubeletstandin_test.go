package kubeenv

// What TestControllers does in place of a kubelet, and its polling.

import (
	"context"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

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
	// The node-lifecycle controller may taint the new Node first: retry on
	// the conflict with the latest object, as a kubelet does.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
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
		_, err := client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			if latest, gerr := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); gerr == nil {
				n = latest
			}
		}
		return err
	})
	if err != nil {
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
