package file

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

// worldDocuments is a world with every kind and both layouts (YAML blocks
// and one-line JSON), as documents without their separators.
func worldDocuments(t testing.TB) []string {
	var docs []string
	for _, f := range []string{"testdata/world.yaml", "testdata/policies.yaml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, strings.Split(string(data), "---\n")...)
	}
	return append(docs, strings.Split(string(benchWorld(10, 2)), "---\n")...)
}

func joinDocuments(docs []string) []byte { return []byte(strings.Join(docs, "---\n")) }

// brokenDocuments replace a document in random edits: each is wrong in
// its own way (syntax, a duplicate key with its line, a field, blank).
var brokenDocuments = []string{
	"kind: [\n",
	"apiVersion: world.causeway.dev/v1alpha1\nkind: Service\nmetadata: {name: dup}\nspec:\n  cluster: c1\n  cluster: c1\n",
	"apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c9}\nspec: {colour: red}\n",
	"apiVersion: world.causeway.dev/v1alpha1\nkind: Service\nmetadata: {name: lost}\nspec: {cluster: nowhere}\n",
	"# only a comment\n",
	"",
}

// editDocuments applies one random edit to docs: it changes, breaks,
// removes, copies or moves a document, shifts its lines, changes a
// cluster's locality, or an endpoint or the labels of a Service.
func editDocuments(r *rand.Rand, docs []string) []string {
	docs = append([]string(nil), docs...)
	i, j := r.IntN(len(docs)), r.IntN(len(docs))
	switch r.IntN(10) {
	case 0: // a real change
		docs[i] = strings.Replace(docs[i], "80", "81", 1)
		docs[i] = strings.Replace(docs[i], "9080", "9081", 1)
	case 1:
		docs[i] = brokenDocuments[r.IntN(len(brokenDocuments))]
	case 2:
		docs = append(docs[:i], docs[i+1:]...)
	case 3: // a duplicate
		docs = append(docs[:j], append([]string{docs[i]}, docs[j:]...)...)
	case 4:
		d := docs[i]
		docs = append(docs[:i], docs[i+1:]...)
		docs = append(docs[:j%len(docs)], append([]string{d}, docs[j%len(docs):]...)...)
	case 5: // every later document moves down a line
		docs[i] = "# moved\n" + docs[i]
	case 6:
		docs[i] = strings.ReplaceAll(docs[i], "\n", "\r\n")
	case 7: // a cluster's locality, which its Services' endpoints take
		for try := 0; try < 100 && !strings.Contains(docs[i], "Cluster"); try++ {
			i = r.IntN(len(docs))
		}
		docs[i] = strings.NewReplacer(`"r1"`, `"r7"`, `"z2"`, `"z7"`, "zone: us-east-1a", "zone: us-east-1c", "rack-1", "rack-2").Replace(docs[i])
	case 8: // an endpoint, the most frequent change
		docs[i] = strings.Replace(docs[i], `{"address":"1`, `{"address":"2`, 1)
	case 9: // a Service's labels, which VirtualDestinations select by
		docs[i] = strings.Replace(docs[i], `"labels":{"app":"s`, `"labels":{"app":"t`, 1)
	}
	if len(docs) == 0 {
		docs = []string{""}
	}
	return docs
}

// TestReloadMatchesColdParse parses random edits of a world both cold and
// through the cache of the previous versions: worlds and errors must be
// the same.
func TestReloadMatchesColdParse(t *testing.T) {
	base := worldDocuments(t)
	if _, err := Parse("world.yaml", joinDocuments(base)); err != nil {
		t.Fatalf("base world: %v", err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var cache docCache
	docs := base
	valid := 0
	const rounds = 200
	for round := range rounds {
		if r.IntN(8) == 0 {
			docs = base
		}
		docs = editDocuments(r, docs)
		data := joinDocuments(docs)
		if r.IntN(4) == 0 {
			data = bytes.TrimSuffix(data, []byte("\n"))
		}
		want, wantErr := parseWorld("world.yaml", data, nil)
		got, gotDocs, gotErr := parseDocuments("world.yaml", data, &cache)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("round %d: cached parse error\n%v\nwant\n%v", round, gotErr, wantErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("round %d: cached parse differs (-cold +cached):\n%s", round, diff)
		}
		if wantErr == nil {
			valid++
			// What parseWithCache publishes: made from the last snapshot
			// when only Services and VirtualDestinations changed.
			sameSnapshots(t, model.NewSnapshot(want), cache.snapshot(got, gotDocs))
		}
		if len(cache.docs) > len(docs) {
			t.Fatalf("round %d: cache holds %d documents, the file %d", round, len(cache.docs), len(docs))
		}
	}
	if valid == 0 || valid == rounds {
		t.Fatalf("%d of %d edited worlds valid: the edits test only one outcome", valid, rounds)
	}
	snapshot, err := parseWithCache("world.yaml", joinDocuments(base), &cache)
	if err != nil {
		t.Fatal(err)
	}
	cold, _ := Parse("world.yaml", joinDocuments(base))
	if diff := cmp.Diff(snapshotContents(cold), snapshotContents(snapshot)); diff != "" {
		t.Errorf("cached snapshot differs (-cold +cached):\n%s", diff)
	}
}

// sameSnapshots fails when got reads differently from want through the
// snapshots' accessors or their endpoint diff.
func sameSnapshots(t *testing.T, want, got *model.Snapshot) {
	t.Helper()
	if diff := cmp.Diff(snapshotContents(want), snapshotContents(got)); diff != "" {
		t.Fatalf("snapshot differs (-want +got):\n%s", diff)
	}
	for _, svc := range want.Services() {
		if diff := cmp.Diff(want.Service(svc.Key()), got.Service(svc.Key())); diff != "" {
			t.Fatalf("snapshot service %s differs (-want +got):\n%s", svc.Key(), diff)
		}
	}
	for _, vd := range want.VirtualDestinations() {
		if diff := cmp.Diff(want.SelectedServices(&vd), got.SelectedServices(&vd)); diff != "" {
			t.Fatalf("services selected by %s differ (-want +got):\n%s", vd.Name, diff)
		}
	}
	if changed, ok := model.EndpointsOnlyDiff(want, got); !ok || len(changed) != 0 {
		t.Fatalf("EndpointsOnlyDiff(NewSnapshot, snapshot) = %v, %v; want no change", changed, ok)
	}
}

func snapshotContents(s *model.Snapshot) model.World {
	return model.World{
		Clusters: s.Clusters(), Services: s.Services(), VirtualDestinations: s.VirtualDestinations(),
		Gateways: s.Gateways(), HTTPRoutes: s.HTTPRoutes(), ReferenceGrants: s.ReferenceGrants(),
		ExternalServices: s.ExternalServices(), FailoverPolicies: s.FailoverPolicies(),
		OutlierDetectionPolicies: s.OutlierDetectionPolicies(), Workspaces: s.Workspaces(),
	}
}

// TestReloadNamesDocuments: a document's errors name its number and line
// in the file being loaded, whether it was parsed now or before.
func TestReloadNamesDocuments(t *testing.T) {
	cluster := "apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\nspec: {}\n"
	dupKey := "apiVersion: world.causeway.dev/v1alpha1\nkind: Service\nmetadata: {name: s}\nspec:\n  cluster: c1\n  cluster: c1\n"
	var cache docCache
	for _, step := range []struct {
		docs []string
		want string
	}{
		{[]string{cluster, dupKey}, `world.yaml: document 2 (Service default/s): yaml: unmarshal errors:
  line 11: key "cluster" already set in map`},
		{[]string{"# new first line\n" + cluster, dupKey}, `world.yaml: document 2 (Service default/s): yaml: unmarshal errors:
  line 12: key "cluster" already set in map`},
		{[]string{cluster, "", dupKey}, `world.yaml: document 2 (Service default/s): yaml: unmarshal errors:
  line 12: key "cluster" already set in map`},
		{[]string{cluster, strings.Replace(cluster, "c1", "c2", 1), dupKey}, `world.yaml: document 3 (Service default/s): yaml: unmarshal errors:
  line 16: key "cluster" already set in map`},
		{[]string{cluster, cluster, "kind: [\n"}, `world.yaml: document 2 (Cluster c1): metadata.name: duplicate Cluster c1, first defined in document 1
world.yaml: document 3 (line 11): invalid YAML: error converting YAML to JSON: yaml: line 11: did not find expected node content`},
	} {
		data := joinDocuments(step.docs)
		_, err := parseWorld("world.yaml", data, &cache)
		if err == nil || err.Error() != step.want {
			t.Errorf("%q: error\n%v\nwant\n%s", data, err, step.want)
		}
	}
}

// TestLoaderKeepsLastGoodWorld: a reload that breaks one document names
// it and keeps the published world; fixing it publishes the edit.
func TestLoaderKeepsLastGoodWorld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	docs := strings.Split(string(benchWorld(20, 1)), "---\n")
	writeWorld(t, path, joinDocuments(docs))
	store := &model.Store{}
	l := &loader{path: path, store: store, log: slog.New(slog.DiscardHandler)}
	if err := l.load(false); err != nil {
		t.Fatal(err)
	}
	good := store.Load()

	broken := append([]string(nil), docs...)
	broken[11] = strings.Replace(broken[11], `"number":80`, `"number":0`, 1)
	writeWorld(t, path, joinDocuments(broken))
	err := l.load(false)
	if want := "document 12 (VirtualDestination default/s2): spec.ports[0].number"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("load = %v, want an error containing %q", err, want)
	}
	if store.Load() != good {
		t.Fatal("a broken file replaced the published world")
	}

	fixed := append([]string(nil), docs...)
	fixed[11] = strings.Replace(fixed[11], `"number":80`, `"number":81`, 1)
	writeWorld(t, path, joinDocuments(fixed))
	if err := l.load(false); err != nil {
		t.Fatal(err)
	}
	want, err := Parse(path, joinDocuments(fixed))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(snapshotContents(want), snapshotContents(store.Load())); diff != "" {
		t.Errorf("reloaded world differs from a cold parse (-cold +reloaded):\n%s", diff)
	}
	if got := store.Load().VirtualDestinations(); got[12].Name != "s2" || got[12].Ports[0].Number != 81 {
		t.Errorf("VirtualDestination %s has port %d, want s2 with 81", got[12].Name, got[12].Ports[0].Number)
	}
}

// TestParseInParallel: a first load parses documents on every CPU, with
// the result of parsing them one after the other.
func TestParseInParallel(t *testing.T) {
	data := benchWorld(3*parallelFrom, 1)
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: nothing runs in parallel")
	}
	parallel, err := parseWorld("world.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	sequential, err := parseWorld("world.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sequential, parallel); diff != "" {
		t.Errorf("parallel parse differs (-sequential +parallel):\n%s", diff)
	}
}
