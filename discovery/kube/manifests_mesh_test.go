package kube

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestManifestsKeepMeshParentRefs: HTTPRoutes whose parentRefs name a
// VirtualDestination or a Service (client proxies' mesh routes) reach the
// model with those parentRefs as written, group "" included.
func TestManifestsKeepMeshParentRefs(t *testing.T) {
	dir := t.TempDir()
	manifest := `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app-split, namespace: ns}
spec:
  parentRefs:
  - {group: networking.causeway.dev, kind: VirtualDestination, name: app, port: 8080}
  - {group: "", kind: Service, name: app-v2}
  rules:
  - backendRefs: [{group: networking.istio.io, kind: Hostname, name: app.global, port: 8080}]
`
	if err := os.WriteFile(filepath.Join(dir, "route.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	set := NewManifestSet()
	if err := set.Add("cluster-1", dir); err != nil {
		t.Fatal(err)
	}
	w, errs := BuildWorld([]ClusterInfo{{Name: "cluster-1"}}, set.Workloads, &set.Config)
	if len(errs) > 0 || len(w.HTTPRoutes) != 1 {
		t.Fatalf("BuildWorld: %d routes, errors %v", len(w.HTTPRoutes), errs)
	}
	group := func(s string) *gwv1.Group { g := gwv1.Group(s); return &g }
	kind := func(s string) *gwv1.Kind { k := gwv1.Kind(s); return &k }
	port := gwv1.PortNumber(8080)
	want := []gwv1.ParentReference{
		{Group: group("networking.causeway.dev"), Kind: kind("VirtualDestination"), Name: "app", Port: &port},
		{Group: group(""), Kind: kind("Service"), Name: "app-v2"},
	}
	if diff := cmp.Diff(want, w.HTTPRoutes[0].Spec.ParentRefs); diff != "" {
		t.Errorf("parentRefs (-want +got):\n%s", diff)
	}
}
