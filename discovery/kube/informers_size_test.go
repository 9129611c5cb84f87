package kube

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
)

const testLimit = 4 << 10

// sizedService is a Service whose size is set by a kept (causeway.dev)
// annotation of n bytes.
func sizedService(name, rv string, n int) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: name, ResourceVersion: rv,
			Annotations: map[string]string{"causeway.dev/blob": strings.Repeat("x", n)}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 9080}}},
	}
}

func TestSizeLimitedTransform(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	store := cache.NewStore(cache.MetaNamespaceKeyFunc)
	tr := sizeLimited("Service", store, testLimit, log, transformMeta)

	// Size counts after the transform: a big dropped annotation is fine.
	fat := sizedService("fat-annotation", "1", 10)
	fat.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = strings.Repeat("y", 2*testLimit)
	if got, _ := tr(fat); isOversized(got.(*corev1.Service)) {
		t.Error("an object small after the transform was treated as oversized")
	}

	// A new oversized object becomes an identity-only stand-in.
	got, err := tr(sizedService("big", "1", 2*testLimit))
	if err != nil {
		t.Fatal(err)
	}
	s := got.(*corev1.Service)
	if !isOversized(s) || s.Name != "big" || s.Namespace != "bookinfo" || len(s.Spec.Ports) != 0 || len(s.Annotations) != 1 {
		t.Errorf("stand-in %s/%s has %d ports and %d annotations (oversized %v), want identity and %s only",
			s.Namespace, s.Name, len(s.Spec.Ports), len(s.Annotations), isOversized(s), OversizedAnnotation)
	}
	for _, want := range []string{"level=ERROR", "kind=Service", "namespace=bookinfo", "name=big", "bytes=", "limit=4096"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log %q lacks %q", logs.String(), want)
		}
	}
	if kept := modelObjects([]*corev1.Service{s, sizedService("small", "1", 10)}); len(kept) != 1 || kept[0].Name != "small" {
		t.Errorf("modelObjects kept %d objects, want only the small one", len(kept))
	}

	// An oversized update of a cached object keeps the cached version.
	prev := sizedService("grows", "1", 10)
	if err := store.Add(prev); err != nil {
		t.Fatal(err)
	}
	if got, _ := tr(sizedService("grows", "2", 2*testLimit)); got != prev {
		t.Errorf("oversized update returned resourceVersion %s, want the cached previous version 1", got.(*corev1.Service).ResourceVersion)
	}

	// Custom resources (unstructured) get an unstructured stand-in of the same kind.
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("networking.causeway.dev/v1alpha1")
	u.SetKind("VirtualDestination")
	u.SetNamespace("bookinfo")
	u.SetName("huge")
	u.Object["spec"] = map[string]interface{}{"hosts": []interface{}{strings.Repeat("h", 2*testLimit)}}
	got, _ = sizeLimited("virtualdestinations", store, testLimit, log, transformMeta)(u)
	gu := got.(*unstructured.Unstructured)
	if !isOversized(gu) || gu.GetKind() != "VirtualDestination" || gu.Object["spec"] != nil {
		t.Errorf("custom resource stand-in: kind %q, oversized %v, has spec %v", gu.GetKind(), isOversized(gu), gu.Object["spec"] != nil)
	}
}

// TestSizeLimitedInformer runs the transform in a real informer (fake
// clientset): an oversized object in the initial list does not stop the
// informer from syncing and stays out of the model, and an oversized update
// leaves the previous version in the cache.
func TestSizeLimitedInformer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := fake.NewSimpleClientset(sizedService("small", "1", 10), sizedService("big", "1", 2*testLimit))
	f := informers.NewSharedInformerFactory(client, 0)
	inf := f.Core().V1().Services().Informer()
	var logs bytes.Buffer
	if err := inf.SetTransform(sizeLimited("Service", inf.GetStore(), testLimit, slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)), transformMeta)); err != nil {
		t.Fatal(err)
	}
	f.Start(ctx.Done())
	syncCtx, syncCancel := context.WithTimeout(ctx, 10*time.Second)
	defer syncCancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync with an oversized object in the list")
	}
	lister := f.Core().V1().Services().Lister()
	listModel := func() []string {
		all, _ := lister.List(labels.Everything())
		var out []string
		for _, s := range modelObjects(all) {
			out = append(out, s.Name+"@"+s.ResourceVersion)
		}
		return out
	}
	if got := strings.Join(listModel(), ","); got != "small@1" {
		t.Fatalf("model objects %q, want small@1 only", got)
	}

	if _, err := client.CoreV1().Services("bookinfo").Update(ctx, sizedService("small", "2", 2*testLimit), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A later small update proves the watch delivered events past the big one.
	if _, err := client.CoreV1().Services("bookinfo").Create(ctx, sizedService("later", "1", 10), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(listModel(), ","), "later@1") {
		if time.Now().After(deadline) {
			t.Fatalf("the later Service never arrived; model %v", listModel())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := strings.Join(listModel(), ","); got != "later@1,small@1" {
		t.Errorf("model objects %q, want the previous small@1 kept and later@1", got)
	}
}

// syncWriter serializes writes from the informer's goroutine.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
