package e2eonboard

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// createCart creates, in the new workload cluster, the Service cart
// (labelled app: cart; no selector, so the EndpointSlice controller leaves
// it alone) and an EndpointSlice of it with one ready endpoint.
func createCart(t *testing.T, c kubernetes.Interface) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	createNamespace(t, c, appNamespace)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: appNamespace, Labels: map[string]string{"app": "cart"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
	}
	if _, err := c.CoreV1().Services(appNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Service %s/cart: %v", appNamespace, err)
	}
	port, name, ready := int32(8080), "http", true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "cart-1", Namespace: appNamespace, Labels: map[string]string{discoveryv1.LabelServiceName: "cart"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{cartAddress}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	}
	if _, err := c.DiscoveryV1().EndpointSlices(appNamespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create EndpointSlice %s/cart-1: %v", appNamespace, err)
	}
}

// applyVirtualDestination creates, on the management cluster, the
// VirtualDestination cart.mesh.internal.com:8080 selecting app: cart.
func applyVirtualDestination(t *testing.T, env *kubeenv.Env) {
	t.Helper()
	vd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.causeway.dev/v1alpha1",
		"kind":       "VirtualDestination",
		"metadata":   map[string]any{"name": "cart", "namespace": appNamespace},
		"spec": map[string]any{
			"hosts":    []any{cartHost},
			"ports":    []any{map[string]any{"number": int64(8080), "protocol": "HTTP"}},
			"services": []any{map[string]any{"labels": map[string]any{"app": "cart"}}},
		},
	}}
	gvr := schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "virtualdestinations"}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	dyn := dynamic.NewForConfigOrDie(env.Cluster("management").Config)
	if _, err := dyn.Resource(gvr).Namespace(appNamespace).Create(ctx, vd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create VirtualDestination %s/cart: %v", appNamespace, err)
	}
}
