package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
)

// fatMeta is metadata carrying what every transform must drop and keep.
func fatMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace: ns, Name: name, ResourceVersion: "7", Generation: 3,
		Labels: map[string]string{"app": "reviews"},
		Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": "{...}",
			"causeway.dev/cluster":                             "cluster-1",
			"status.causeway.dev/note":                         "kept",
			"notcauseway.dev/x":                                "dropped",
		},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "rs"}},
	}
}

// thinMeta is fatMeta after stripMeta.
func thinMeta(ns, name string, owners bool) metav1.ObjectMeta {
	m := metav1.ObjectMeta{
		Namespace: ns, Name: name, ResourceVersion: "7", Generation: 3,
		Labels:      map[string]string{"app": "reviews"},
		Annotations: map[string]string{"causeway.dev/cluster": "cluster-1", "status.causeway.dev/note": "kept"},
	}
	if owners {
		m.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "rs"}}
	}
	return m
}

func TestTransforms(t *testing.T) {
	cases := []struct {
		name      string
		transform cache.TransformFunc
		in, want  interface{}
	}{
		{
			name:      "pod keeps labels, node and addresses",
			transform: transformPod,
			in: &corev1.Pod{
				ObjectMeta: fatMeta("ns", "p"),
				Spec:       corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "c", Image: "img"}}},
				Status: corev1.PodStatus{
					PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}}, Phase: corev1.PodRunning,
					Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				},
			},
			want: &corev1.Pod{
				ObjectMeta: thinMeta("ns", "p", false),
				Spec:       corev1.PodSpec{NodeName: "node-a"},
				Status:     corev1.PodStatus{PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}}},
			},
		},
		{
			name:      "node keeps labels only",
			transform: transformNode,
			in: &corev1.Node{
				ObjectMeta: fatMeta("", "n"),
				Spec:       corev1.NodeSpec{PodCIDR: "10.0.0.0/24"},
				Status:     corev1.NodeStatus{Images: []corev1.ContainerImage{{Names: []string{"img"}}}},
			},
			want: &corev1.Node{ObjectMeta: thinMeta("", "n", false)},
		},
		{
			name:      "service keeps spec and status",
			transform: transformMeta,
			in: &corev1.Service{
				ObjectMeta: fatMeta("ns", "s"),
				Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "tls", Port: 15443}}},
				Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "127.0.1.100"}}}},
			},
			want: &corev1.Service{
				ObjectMeta: thinMeta("ns", "s", true),
				Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "tls", Port: 15443}}},
				Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "127.0.1.100"}}}},
			},
		},
		{
			name:      "secret keeps the kubeconfig key",
			transform: transformSecret,
			in: &corev1.Secret{
				ObjectMeta: fatMeta("causeway-system", "c"),
				Data:       map[string][]byte{"kubeconfig": []byte("k"), "ca.crt": []byte("big")},
			},
			want: &corev1.Secret{
				ObjectMeta: thinMeta("causeway-system", "c", true),
				Data:       map[string][]byte{"kubeconfig": []byte("k")},
			},
		},
		{
			name:      "custom resource (unstructured) loses managedFields and foreign annotations",
			transform: transformMeta,
			in: &unstructured.Unstructured{Object: map[string]interface{}{
				"apiVersion": "networking.causeway.dev/v1alpha1", "kind": "VirtualDestination",
				"metadata": map[string]interface{}{
					"name": "vd", "namespace": "ns",
					"annotations":   map[string]interface{}{"kubectl.kubernetes.io/last-applied-configuration": "{}"},
					"managedFields": []interface{}{map[string]interface{}{"manager": "kubectl"}},
				},
				"spec": map[string]interface{}{"hosts": []interface{}{"a.example"}},
			}},
			want: &unstructured.Unstructured{Object: map[string]interface{}{
				"apiVersion": "networking.causeway.dev/v1alpha1", "kind": "VirtualDestination",
				"metadata": map[string]interface{}{"name": "vd", "namespace": "ns"},
				"spec":     map[string]interface{}{"hosts": []interface{}{"a.example"}},
			}},
		},
		{
			name:      "tombstones pass through",
			transform: transformPod,
			in:        cache.DeletedFinalStateUnknown{Key: "ns/p"},
			want:      cache.DeletedFinalStateUnknown{Key: "ns/p"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.transform(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// Idempotent: a second pass changes nothing.
			again, err := tc.transform(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, again); diff != "" {
				t.Errorf("second pass (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSameApartFromResourceVersion(t *testing.T) {
	pod := func(rv, ip string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", ResourceVersion: rv}, Status: corev1.PodStatus{PodIP: ip}}
	}
	cases := []struct {
		name     string
		old, new interface{}
		want     bool
	}{
		{"only the resourceVersion changed", pod("1", "10.0.0.1"), pod("2", "10.0.0.1"), true},
		{"a kept field changed", pod("1", "10.0.0.1"), pod("2", "10.0.0.2"), false},
		{"different kinds", pod("1", ""), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "p", ResourceVersion: "1"}}, false},
		{"not objects", "a", "a", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameApartFromResourceVersion(tc.old, tc.new); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// The comparison must not change its arguments.
	n := pod("2", "10.0.0.1")
	sameApartFromResourceVersion(pod("1", "10.0.0.1"), n)
	if n.ResourceVersion != "2" {
		t.Errorf("new object modified: resourceVersion %q", n.ResourceVersion)
	}
}
