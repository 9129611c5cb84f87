package chart

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

var kube = kubeenv.NewShared("helm")

func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }

// notServed are kinds whose CRDs come from other projects and are not on
// the test API server: objects of them are checked by the render tests
// only.
var notServed = map[string]bool{"monitoring.coreos.com/ServiceMonitor": true}

// TestApplyServerSide applies every value set's rendering to a real
// kube-apiserver as helm install would (CRDs first, then the rest), by
// server-side apply with strict field validation: an unknown field, a
// wrong type or an object the API server refuses fails the test.
func TestApplyServerSide(t *testing.T) {
	env := kube.Env(t)
	cfg := env.Cluster("helm").Config
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	if _, err := env.Cluster("helm").Clientset().CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			objs := mustRender(t, vs.release, vs.values)
			var crds, rest []*unstructured.Unstructured
			for _, u := range objs {
				if u.GetKind() == "CustomResourceDefinition" {
					crds = append(crds, u)
				} else {
					rest = append(rest, u)
				}
			}
			if len(crds) != 6 {
				t.Errorf("%d CRDs rendered, want Causeway's 6", len(crds))
			}
			for _, u := range crds {
				apply(ctx, t, dyn, mapper, u)
			}
			waitEstablished(ctx, t, dyn, crds)
			mapper.Reset()
			applied := 0
			for _, u := range rest {
				if notServed[u.GroupVersionKind().Group+"/"+u.GetKind()] {
					t.Logf("%s %s: its CRD is not installed here, checked by TestValues only", u.GetKind(), u.GetName())
					continue
				}
				apply(ctx, t, dyn, mapper, u)
				applied++
			}
			t.Logf("%s: %d CRDs and %d objects accepted", vs.release, len(crds), applied)
		})
	}
}

// apply server-side applies u, failing the test if the API server refuses it.
func apply(ctx context.Context, t *testing.T, dyn dynamic.Interface, mapper meta.RESTMapper, u *unstructured.Unstructured) {
	t.Helper()
	if err := applyObject(ctx, dyn, mapper, u); err != nil {
		t.Error(err)
	}
}

// applyObject server-side applies u with strict field validation.
func applyObject(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, u *unstructured.Unstructured) error {
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
	}
	data, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if u.GetNamespace() == "" {
			return fmt.Errorf("%s %s: namespaced but rendered without a namespace", gvk.Kind, u.GetName())
		}
		ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	force := true
	if _, err := ri.Patch(ctx, u.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
		FieldManager: "helm-chart-test", Force: &force, FieldValidation: "Strict"}); err != nil {
		return fmt.Errorf("apply %s %s: %w", gvk.Kind, u.GetName(), err)
	}
	return nil
}

// TestApplyRejectsUnknownFields guards TestApplyServerSide: the way it
// applies must refuse a misspelt field, which the API server would
// otherwise drop silently.
func TestApplyRejectsUnknownFields(t *testing.T) {
	env := kube.Env(t)
	cfg := env.Cluster("helm").Config
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objs := mustRender(t, "causeway-typo", map[string]any{"clusters": map[string]any{"managementIsWorkload": false}})
	for _, u := range objs {
		if u.GetKind() != "Service" {
			continue
		}
		u = u.DeepCopy()
		u.SetNamespace("default")
		if err := unstructured.SetNestedField(u.Object, int64(2), "spec", "replica"); err != nil {
			t.Fatal(err)
		}
		err := applyObject(ctx, dyn, mapper, u)
		if err == nil || !strings.Contains(err.Error(), "replica") {
			t.Errorf("Service with spec.replica applied: error %v, want one naming the field", err)
		}
		return
	}
	t.Fatal("no Service rendered")
}

// waitEstablished waits until every CRD in crds is Established.
func waitEstablished(ctx context.Context, t *testing.T, dyn dynamic.Interface, crds []*unstructured.Unstructured) {
	t.Helper()
	res := dyn.Resource(apiextensionsGVR)
	for _, c := range crds {
		for {
			cur, err := res.Get(ctx, c.GetName(), metav1.GetOptions{})
			if err == nil && condition(cur, "Established") == "True" {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("CRD %s not Established: %v", c.GetName(), err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func condition(u *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return fmt.Sprint(m["status"])
		}
	}
	return ""
}

var apiextensionsGVR = apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")
