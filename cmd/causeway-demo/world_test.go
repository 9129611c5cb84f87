package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/examples/demo"
)

var cluster1Reviews = readiness{Cluster: "cluster-1", Labels: map[string]string{"app": "reviews"}}

// readyByEndpoint parses a world and returns cluster/service/address → ready.
func readyByEndpoint(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	w, err := file.Parse("world", data)
	if err != nil {
		t.Fatalf("world does not parse: %v\n%s", err, data)
	}
	out := map[string]bool{}
	for _, svc := range w.Services() {
		for _, ep := range svc.Endpoints {
			out[svc.Cluster+"/"+svc.Name+"/"+ep.Address] = ep.Ready
		}
	}
	return out
}

func TestSetReadyFlipsOnlySelectedEndpoints(t *testing.T) {
	down, n, err := setReady(demo.World, cluster1Reviews, false)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("set %d endpoints, want 2", n)
	}
	want := map[string]bool{
		"cluster-1/reviews-v1/127.0.1.10": false,
		"cluster-1/reviews-v2/127.0.1.11": false,
		"cluster-2/reviews-v3/127.0.2.10": true,
		"cluster-2/reviews-v1/127.0.2.11": true,
		"cluster-2/ratings-v1/127.0.2.12": true,
	}
	if diff := cmp.Diff(want, readyByEndpoint(t, down)); diff != "" {
		t.Errorf("readiness after down (-want +got):\n%s", diff)
	}
	// Untouched documents keep their text, comments included.
	if !strings.HasPrefix(string(down), "# The demo world") || !strings.Contains(string(down), "# One internal hostname") {
		t.Errorf("comments of untouched documents were lost:\n%s", down)
	}

	up, _, err := setReady(down, cluster1Reviews, true)
	if err != nil {
		t.Fatal(err)
	}
	for k := range want {
		want[k] = true
	}
	if diff := cmp.Diff(want, readyByEndpoint(t, up)); diff != "" {
		t.Errorf("readiness after up (-want +got):\n%s", diff)
	}
	// Up again restores the original world (same model, not just same flags).
	orig, _ := file.Parse("orig", demo.World)
	back, _ := file.Parse("back", up)
	if diff := cmp.Diff(orig.Services(), back.Services()); diff != "" {
		t.Errorf("services after down+up differ from the original (-orig +back):\n%s", diff)
	}
}

func TestSetReadyAddsMissingReadyField(t *testing.T) {
	in := []byte(`apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: reviews, namespace: bookinfo, labels: {app: reviews}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080}]
  endpoints: [{address: 127.0.1.10}]
`)
	out, n, err := setReady(in, cluster1Reviews, false)
	if err != nil || n != 1 {
		t.Fatalf("setReady: n=%d err=%v", n, err)
	}
	if !strings.Contains(string(out), "ready: false") {
		t.Errorf("no ready field added:\n%s", out)
	}
}

func TestSetReadyInFileReplacesAtomicallyAndRejectsEmptySelection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(path, demo.World, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := setReadyInFile(path, cluster1Reviews, false); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if readyByEndpoint(t, data)["cluster-1/reviews-v1/127.0.1.10"] {
		t.Error("endpoint still ready in the file")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if _, err := setReadyInFile(path, readiness{Cluster: "cluster-9", Labels: map[string]string{"app": "reviews"}}, false); err == nil {
		t.Error("want an error when nothing matches")
	}
}
