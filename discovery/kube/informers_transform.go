package kube

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Informer caches hold every object of a kind in every cluster, so they keep
// only what the model reads. The transforms run before an object enters the
// cache and may change it in place (client-go ≥ 1.27); they are idempotent.

// isCausewayAnnotation reports whether an annotation key is in a causeway.dev
// domain: those are the only annotations the model reads (for example the
// cluster a Gateway belongs to).
func isCausewayAnnotation(key string) bool {
	prefix, _, ok := strings.Cut(key, "/")
	return ok && (prefix == "causeway.dev" || strings.HasSuffix(prefix, ".causeway.dev"))
}

// stripMeta drops managedFields and annotations outside causeway.dev, which
// are often large (last-applied-configuration) and never read.
func stripMeta(m metav1.Object) {
	m.SetManagedFields(nil)
	ann := m.GetAnnotations()
	if len(ann) == 0 {
		return
	}
	var kept map[string]string
	for k, v := range ann {
		if isCausewayAnnotation(k) {
			if kept == nil {
				kept = map[string]string{}
			}
			kept[k] = v
		}
	}
	m.SetAnnotations(kept)
}

// transformMeta is the transform of kinds whose spec and status are needed
// whole: Services, EndpointSlices, Secrets, Gateway API objects and
// Causeway custom resources.
func transformMeta(obj interface{}) (interface{}, error) {
	if m, err := meta.Accessor(obj); err == nil {
		stripMeta(m)
	}
	return obj, nil
}

// transformPod keeps a Pod's identity and labels (endpoint labels come from
// the Pod an EndpointSlice endpoint points at), its node and addresses.
func transformPod(obj interface{}) (interface{}, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	stripMeta(p)
	p.OwnerReferences = nil
	p.Spec = corev1.PodSpec{NodeName: p.Spec.NodeName}
	p.Status = corev1.PodStatus{PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs}
	return p, nil
}

// transformNode keeps a Node's labels (topology labels give endpoint
// localities) and drops spec and status, which change with every heartbeat
// and hold image lists.
func transformNode(obj interface{}) (interface{}, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	stripMeta(n)
	n.OwnerReferences = nil
	n.Spec = corev1.NodeSpec{}
	n.Status = corev1.NodeStatus{}
	return n, nil
}

// transformSecret keeps only the kubeconfig key of a cluster Secret.
func transformSecret(obj interface{}) (interface{}, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	stripMeta(s)
	if len(s.Data) > 1 {
		kept := map[string][]byte{}
		if v, ok := s.Data[SecretKubeconfigKey]; ok {
			kept[SecretKubeconfigKey] = v
		}
		s.Data = kept
	}
	s.StringData = nil
	return s, nil
}

// sameApartFromResourceVersion reports whether an update changed nothing the
// transforms kept: a Node heartbeat or a Pod condition flip still arrives as
// an update with a new resourceVersion, and rebuilding the world for it would
// be wasted work.
func sameApartFromResourceVersion(oldObj, newObj interface{}) bool {
	o, ok1 := oldObj.(runtime.Object)
	n, ok2 := newObj.(runtime.Object)
	if !ok1 || !ok2 || reflect.TypeOf(o) != reflect.TypeOf(n) {
		return false
	}
	om, err1 := meta.Accessor(o)
	nm, err2 := meta.Accessor(n)
	if err1 != nil || err2 != nil {
		return false
	}
	if om.GetResourceVersion() == nm.GetResourceVersion() {
		return reflect.DeepEqual(o, n)
	}
	c := n.DeepCopyObject()
	cm, _ := meta.Accessor(c)
	cm.SetResourceVersion(om.GetResourceVersion())
	return reflect.DeepEqual(o, c)
}
