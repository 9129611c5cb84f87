package file

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

// FuzzParseWorld: whatever the bytes, parsing a world file does not panic
// and either fails with errors naming the file, in the world file's terms,
// or yields a consistent world: every Service in a cluster of the world,
// no two objects of a kind with one name, and the same world whether
// parsed cold or reusing the documents of an earlier load.
//
//	go test -run '^$' -fuzz '^FuzzParseWorld$' -fuzztime 10s ./discovery/file
func FuzzParseWorld(f *testing.F) {
	for _, path := range []string{"testdata/world.yaml", "testdata/policies.yaml", "../../examples/demo/world.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(guardWorld(1))
	f.Add(benchWorld(3, 2))
	for _, s := range []string{
		"", "---\n", "# only a comment\n", "kind: [\n", "- a\n- b\n",
		"apiVersion: world.causeway.dev/v1alpha1\nmetadata: {name: nokind, namespace: app}\n",
		vd("  hosts: [a.b]\n  ports: [{number: abc}]\n  services: [{}]\n"),
		vd("  hosts: {a: b}\n  ports: [{number: 99999999999}]\n  services: [{labels: {a: [1]}}]\n"),
	} {
		f.Add([]byte(s))
	}
	prime, err := os.ReadFile("testdata/world.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		snap, err := Parse(name, data)
		if err != nil {
			if snap != nil {
				t.Fatalf("Parse returned a world with the error %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, name+": ") {
				t.Fatalf("error does not name the file: %q", msg)
			}
			if strings.Contains(msg, "Go struct field") || strings.Contains(msg, "Go value of type") {
				t.Fatalf("error in Go's terms: %q", msg)
			}
			return
		}
		checkWorldConsistent(t, snap)

		// The incremental path: documents cached from another world, then
		// from this one.
		var cache docCache
		_, _ = parseWithCache(name, prime, &cache)
		for i := range 2 {
			cached, err := parseWithCache(name, data, &cache)
			if err != nil {
				t.Fatalf("parse %d with a cache failed where a cold parse succeeded: %v", i+1, err)
			}
			if diff := cmp.Diff(snapshotContents(snap), snapshotContents(cached)); diff != "" {
				t.Fatalf("parse %d with a cache differs from a cold parse (-cold +cached):\n%s", i+1, diff)
			}
		}
	})
}

// checkWorldConsistent checks what every parsed world must satisfy.
func checkWorldConsistent(t *testing.T, snap *model.Snapshot) {
	t.Helper()
	clusters := map[string]bool{}
	for _, c := range snap.Clusters() {
		if clusters[c.Name] {
			t.Fatalf("cluster %s twice", c.Name)
		}
		clusters[c.Name] = true
	}
	seen := map[string]bool{}
	unique := func(kind, ns, name string) {
		key := fmt.Sprintf("%s %s/%s", kind, ns, name)
		if seen[key] {
			t.Fatalf("%s twice", key)
		}
		seen[key] = true
	}
	for _, s := range snap.Services() {
		if !clusters[s.Cluster] {
			t.Fatalf("Service %s/%s in cluster %q, not in the world", s.Namespace, s.Name, s.Cluster)
		}
		unique("Service in "+s.Cluster, s.Namespace, s.Name)
	}
	for _, v := range snap.VirtualDestinations() {
		unique("VirtualDestination", v.Namespace, v.Name)
		if len(v.Hosts) == 0 || len(v.Ports) == 0 {
			t.Fatalf("VirtualDestination %s/%s without hosts or ports", v.Namespace, v.Name)
		}
	}
	for _, g := range snap.Gateways() {
		unique("Gateway", g.Namespace, g.Name)
	}
	for _, r := range snap.HTTPRoutes() {
		unique("HTTPRoute", r.Namespace, r.Name)
	}
}
