package xds

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/causeway-dev/causeway/translator"
)

// A resource counts as validated when any published snapshot (the class's
// own or another class's) holds it in the same version, that is with the
// same name and encoding; anything else is validated.
func TestValidatedInPublishedSnapshots(t *testing.T) {
	cluster := func(name string, timeoutSec int64) *clusterv3.Cluster {
		return &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(time.Duration(timeoutSec) * time.Second)}
	}
	snapOf := func(clusters ...*clusterv3.Cluster) *classSnapshot {
		s, _, err := newSnapshot(&translator.Resources{Clusters: clusters})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	own := snapOf(cluster("a", 1), cluster("b", 1))
	other := snapOf(cluster("b", 2), cluster("c", 1))
	cur := snapOf(cluster("a", 1), cluster("b", 2), cluster("c", 2), cluster("d", 1))

	for _, tc := range []struct {
		name      string
		published []*classSnapshot
		want      map[string]bool
	}{
		{"none published", []*classSnapshot{nil}, nil},
		{"own only", []*classSnapshot{own}, map[string]bool{"a": true, "b": false, "c": false, "d": false}},
		{"own and another class's", []*classSnapshot{own, other}, map[string]bool{"a": true, "b": true, "c": false, "d": false}},
		{"a new class, others published", []*classSnapshot{nil, other}, map[string]bool{"a": false, "b": true, "c": false, "d": false}},
	} {
		known := cur.validatedIn(tc.published...)
		if tc.want == nil {
			if known != nil {
				t.Errorf("%s: a check skips resources with nothing published", tc.name)
			}
			continue
		}
		for name, want := range tc.want {
			if got := known(resource.ClusterType, name); got != want {
				t.Errorf("%s: cluster %s counts as validated: %v, want %v", tc.name, name, got, want)
			}
		}
		if known(resource.EndpointType, "a") {
			t.Errorf("%s: a load assignment absent everywhere counts as validated", tc.name)
		}
	}
}
