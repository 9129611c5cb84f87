package kube

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestManifestsManyDocumentsKeepOrder reads a file of more documents than
// one parallel batch, mixing valid objects, comment-only documents,
// invalid YAML, unknown fields, Lists and duplicates, on one and several
// CPUs: numbering, errors (with their lines) and the objects' order are
// those of reading the documents one after another.
func TestManifestsManyDocumentsKeepOrder(t *testing.T) {
	const n = 500
	var doc strings.Builder
	var want []string // error lines, after "<path>: "
	var services []string
	index, line := 0, 1
	add := func(text string) {
		if line > 1 {
			doc.WriteString("---\n")
			line++
		}
		doc.WriteString(text)
		line += strings.Count(text, "\n")
	}
	for i := 0; i < n; i++ {
		start := line
		if i > 0 {
			start++ // after the separator
		}
		switch i % 6 {
		case 0, 1:
			add(fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: ns}\nspec: {ports: [{port: 80}]}\n", i))
			index++
			services = append(services, fmt.Sprintf("s%d", i))
		case 2:
			add("# only a comment\n")
		case 3:
			add("apiVersion: v1\nkind: Service\nmetadata: {name: [\n")
			index++
			want = append(want, fmt.Sprintf("document %d (line %d): invalid YAML: error converting YAML to JSON: yaml: line %d: ", index, start, start+2))
		case 4:
			add(fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata: {name: s%d, namespace: ns}\nspec: {colour: red}\n", i-4))
			index++
			// Not decoded, so not a duplicate of s<i-4> either.
			want = append(want, fmt.Sprintf(`document %d (Service ns/s%d): unknown field "spec.colour"`, index, i-4))
		case 5:
			add(fmt.Sprintf("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: l%d, namespace: ns}}\n- {apiVersion: v1, kind: Service, metadata: {name: s%d, namespace: ns}}\n", i, i-5))
			index++
			services = append(services, fmt.Sprintf("l%d", i))
			want = append(want, fmt.Sprintf("document %d items[1] (Service ns/s%d): duplicate Service ns/s%d, first defined in ", index, i-5, i-5))
		}
	}
	path := filepath.Join(t.TempDir(), "many.yaml")
	if err := os.WriteFile(path, []byte(doc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var first string
	for _, procs := range []int{1, 2, 8} {
		prev := runtime.GOMAXPROCS(procs)
		set := NewManifestSet()
		err := set.Add("c1", path)
		runtime.GOMAXPROCS(prev)
		if err == nil {
			t.Fatal("no errors")
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(want) {
			t.Fatalf("GOMAXPROCS=%d: %d errors, want %d:\n%s", procs, len(lines), len(want), err)
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], path+": "+w) {
				t.Fatalf("GOMAXPROCS=%d: error %d:\n%s\nwant prefix:\n%s: %s", procs, i, lines[i], path, w)
			}
		}
		if first == "" {
			first = err.Error()
		} else if err.Error() != first {
			t.Fatalf("GOMAXPROCS=%d: errors differ from GOMAXPROCS=1's", procs)
		}
		var got []string
		for _, s := range set.Workloads["c1"].Services {
			got = append(got, s.Name)
		}
		if strings.Join(got, ",") != strings.Join(services, ",") {
			t.Fatalf("GOMAXPROCS=%d: services in the order %v, want %v", procs, got, services)
		}
	}
}
