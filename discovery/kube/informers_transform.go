package kube

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
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

// MaxObjectBytes bounds one object entering the model, measured after the
// transform (so a large last-applied-configuration annotation or a Node's
// image list, which are dropped anyway, do not count). Every cached object
// is kept in memory per cluster and walked on every rebuild; an object this
// large is a mistake or an attack (anyone allowed to write an HTTPRoute or a
// Service could otherwise make the control plane slow for every proxy).
const MaxObjectBytes = 512 << 10

// OversizedAnnotation marks the stand-in of an object dropped for its size
// that had no earlier version in the cache; the model builders skip it.
const OversizedAnnotation = "causeway.dev/oversized"

// objectSize is the object's serialized size: its protobuf size for
// built-in kinds, its JSON size otherwise (custom resources).
func objectSize(obj interface{}) int {
	if s, ok := obj.(interface{ Size() int }); ok {
		return s.Size()
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return 0
	}
	return len(b)
}

// sizeLimited wraps transform so objects over limit never enter the cache
// (and so the model). A transform cannot drop an object, and returning an
// error would make client-go log the whole object and, during a list, abort
// the relist so the kind never syncs. Instead an oversized object is
// replaced by the version already cached (the update is ignored and the
// model keeps what it had) or, when there is none, by a stand-in carrying
// only its identity and OversizedAnnotation. Either way an error names the
// object and its size.
func sizeLimited(kind string, cached cache.Store, limit int, log *slog.Logger, transform cache.TransformFunc) cache.TransformFunc {
	return func(obj interface{}) (interface{}, error) {
		obj, err := transform(obj)
		if err != nil {
			return obj, err
		}
		size := objectSize(obj)
		if size <= limit {
			return obj, nil
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return obj, nil
		}
		key := m.GetName()
		if m.GetNamespace() != "" {
			key = m.GetNamespace() + "/" + key
		}
		if prev, ok, _ := cached.GetByKey(key); ok {
			log.Error("object exceeds the size limit; ignoring this version and keeping the previous one",
				"kind", kind, "namespace", m.GetNamespace(), "name", m.GetName(), "bytes", size, "limit", limit)
			return prev, nil
		}
		log.Error("object exceeds the size limit; left out of the model",
			"kind", kind, "namespace", m.GetNamespace(), "name", m.GetName(), "bytes", size, "limit", limit)
		return oversizedStandIn(obj, m, size), nil
	}
}

// oversizedStandIn is an empty object of obj's type with obj's identity.
func oversizedStandIn(obj interface{}, m metav1.Object, size int) interface{} {
	out := reflect.New(reflect.TypeOf(obj).Elem()).Interface()
	if u, ok := obj.(*unstructured.Unstructured); ok {
		stand := &unstructured.Unstructured{Object: map[string]interface{}{}}
		stand.SetGroupVersionKind(u.GroupVersionKind())
		out = stand
	}
	sm, err := meta.Accessor(out)
	if err != nil {
		return obj
	}
	sm.SetNamespace(m.GetNamespace())
	sm.SetName(m.GetName())
	sm.SetUID(m.GetUID())
	sm.SetResourceVersion(m.GetResourceVersion())
	sm.SetGeneration(m.GetGeneration())
	sm.SetCreationTimestamp(m.GetCreationTimestamp())
	sm.SetAnnotations(map[string]string{OversizedAnnotation: strconv.Itoa(size)})
	return out
}

// isOversized reports whether o is a stand-in made by sizeLimited.
func isOversized(o metav1.Object) bool {
	_, ok := o.GetAnnotations()[OversizedAnnotation]
	return ok
}

// modelObjects leaves out stand-ins and sorts by namespace/name: what the
// model builders see of a lister's objects.
func modelObjects[T metav1.Object](objs []T) []T {
	out := withoutStandIns(objs)
	sortByKey(out)
	return out
}

// withoutStandIns leaves out stand-ins, in place.
func withoutStandIns[T metav1.Object](objs []T) []T {
	out := objs[:0]
	for _, o := range objs {
		if !isOversized(o) {
			out = append(out, o)
		}
	}
	return out
}
