package translator

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/causeway-dev/causeway/discovery/file"
)

// TranslateStreaming hands load assignments to its callback as they are
// built; with what it leaves in Endpoints, that is exactly Translate's
// output, over every golden world.
func TestTranslateStreamingMatchesTranslate(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	emittedAll := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(goldenDir, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			world, err := file.Load(filepath.Join(dir, "world.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			world = markStale(t, world, filepath.Join(dir, "stale-clusters.yaml"))
			p := readProxy(t, filepath.Join(dir, "proxy.yaml"))
			want := Translate(world, p, testCredentials)
			var emitted []*endpointv3.ClusterLoadAssignment
			got := TranslateStreaming(world, p, testCredentials, func(cla *endpointv3.ClusterLoadAssignment) {
				emitted = append(emitted, cla)
			})
			emittedAll += len(emitted)
			all := append(slices.Clone(got.Endpoints), emitted...)
			slices.SortStableFunc(all, func(a, b *endpointv3.ClusterLoadAssignment) int {
				return strings.Compare(a.GetClusterName(), b.GetClusterName())
			})
			got.Endpoints = all
			if diff := cmp.Diff(want, got, protocmp.Transform(), cmp.AllowUnexported(Resources{})); diff != "" {
				t.Errorf("streamed translation differs (-Translate +TranslateStreaming):\n%s", diff)
			}
		})
	}
	if emittedAll == 0 {
		t.Error("no golden world emitted a load assignment: the test checks nothing")
	}
}
