package xds

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/causeway-dev/causeway/translator"
)

// buildSnapshot validates what validateSnapshot does, as it encodes, with
// the load assignments streamed or not, and keeps no message.
func TestBuildSnapshotValidatesAsItEncodes(t *testing.T) {
	badAddress := cla("c2", 0)
	badAddress.Endpoints[0].LbEndpoints[0].GetEndpoint().Address = &corev3.Address{}
	missingStatPrefix := goodHCM("gateway_8080")
	missingStatPrefix.StatPrefix = ""
	for _, tc := range []struct {
		name      string
		clusters  []*clusterv3.Cluster
		clas      []*endpointv3.ClusterLoadAssignment
		listeners []*listenerv3.Listener
		routes    []*routev3.RouteConfiguration
		want      []string // substrings of the error; none: valid
	}{
		{name: "valid", clusters: []*clusterv3.Cluster{edsCluster("c1")}, clas: []*endpointv3.ClusterLoadAssignment{cla("c1", 0, 1)},
			listeners: []*listenerv3.Listener{hcmListener(t, "gateway_8080", goodHCM("gateway_8080"))},
			routes:    []*routev3.RouteConfiguration{{Name: "gateway_8080"}}},
		{name: "priority gap and bad address", clusters: []*clusterv3.Cluster{edsCluster("c1"), edsCluster("c2")},
			clas: []*endpointv3.ClusterLoadAssignment{cla("c1", 0, 2), badAddress},
			want: []string{`ClusterLoadAssignment "c1": endpoint priorities are not contiguous`, `ClusterLoadAssignment "c2"`}},
		{name: "invalid Any payload", listeners: []*listenerv3.Listener{hcmListener(t, "gateway_8080", missingStatPrefix)},
			routes: []*routev3.RouteConfiguration{{Name: "gateway_8080"}},
			want:   []string{`Listener "gateway_8080": filter_chains[0].filters[0].typed_config`}},
		{name: "missing load assignment", clusters: []*clusterv3.Cluster{edsCluster("c1")},
			want: []string{`snapshot inconsistent: ClusterLoadAssignment referenced but missing: "c1"`}},
		{name: "unreferenced load assignment", clas: []*endpointv3.ClusterLoadAssignment{cla("orphan", 0)},
			want: []string{`snapshot inconsistent: ClusterLoadAssignment not referenced: "orphan"`}},
		{name: "missing route configuration", listeners: []*listenerv3.Listener{hcmListener(t, "gateway_8080", goodHCM("gateway_8080"))},
			want: []string{`snapshot inconsistent: RouteConfiguration referenced but missing: "gateway_8080"`}},
	} {
		for _, streamed := range []bool{false, true} {
			// Copies: building clears the slices it is given.
			res := &translator.Resources{Clusters: clones(tc.clusters), Listeners: clones(tc.listeners), Routes: clones(tc.routes)}
			var st *claStream
			if streamed {
				st = newCLAStream(newChecker(nil))
				for _, x := range clones(tc.clas) {
					st.add(x)
				}
			} else {
				res.Endpoints = clones(tc.clas)
			}
			snap, err := buildSnapshot(res, st)
			if len(tc.want) == 0 && err != nil {
				t.Errorf("%s (streamed %v): rejected: %v", tc.name, streamed, err)
			}
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s (streamed %v): error %v does not mention %q", tc.name, streamed, err, want)
				}
			}
			if res.Clusters != nil || res.Endpoints != nil || res.Listeners != nil || res.Routes != nil {
				t.Errorf("%s (streamed %v): the translation's messages are still referenced", tc.name, streamed)
			}
			if snap == nil {
				continue
			}
			if got := len(snap.set(resource.EndpointType).items); got != len(tc.clas) {
				t.Errorf("%s (streamed %v): %d load assignments, want %d", tc.name, streamed, got, len(tc.clas))
			}
			for _, rs := range snap.sets {
				if rs == nil {
					continue
				}
				for name, it := range rs.items {
					if it.res != nil {
						t.Errorf("%s (streamed %v): %s %q keeps its message", tc.name, streamed, rs.typeURL, name)
					}
				}
			}
		}
	}
}

// A resource that a published snapshot holds in the same version is not
// validated again; one that differs is.
func TestBuildSnapshotSkipsPublished(t *testing.T) {
	gap := func() *endpointv3.ClusterLoadAssignment { return cla("c1", 0, 2) } // invalid: priority 1 missing
	published, _, err := newSnapshot(&translator.Resources{Clusters: []*clusterv3.Cluster{edsCluster("c1")},
		Endpoints: []*endpointv3.ClusterLoadAssignment{gap()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cla     *endpointv3.ClusterLoadAssignment
		wantErr bool
	}{
		{"same version as published", gap(), false},
		{"another version", cla("c1", 0, 3), true},
	} {
		st := newCLAStream(newChecker([]*classSnapshot{published}))
		st.add(tc.cla)
		_, err := buildSnapshot(&translator.Resources{Clusters: []*clusterv3.Cluster{edsCluster("c1")}}, st)
		if got := err != nil; got != tc.wantErr {
			t.Errorf("%s: error %v, want an error: %v", tc.name, err, tc.wantErr)
		}
	}
}

func clones[T proto.Message](xs []T) []T {
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = proto.Clone(x).(T)
	}
	return out
}
