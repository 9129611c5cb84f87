package kubeenv

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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
