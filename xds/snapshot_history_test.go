package xds

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/causeway-dev/causeway/translator"
)

// historyCLA is the load assignment name with one endpoint on port.
func historyCLA(name string, port int) *endpointv3.ClusterLoadAssignment {
	return &endpointv3.ClusterLoadAssignment{
		ClusterName: name,
		Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: "10.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(port)},
				}}},
			}},
		}}}},
	}
}

// historyCLAs are the assignments of ports (name → port), by name.
func historyCLAs(ports map[string]int) []*endpointv3.ClusterLoadAssignment {
	var out []*endpointv3.ClusterLoadAssignment
	for _, n := range slices.Sorted(maps.Keys(ports)) {
		out = append(out, historyCLA(n, ports[n]))
	}
	return out
}

func nameSet(names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// A chain of endpoint patches several times longer than the history: from
// every earlier set to the newest, changedSince covers the true difference;
// within maxHistory generations it is the history's (changed names, also
// those changed back), from 2*maxHistory on the full comparison; versions
// always equal those of a set built from scratch.
func TestResourceSetHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const names = 16
	ports := map[string]int{}
	for i := range names {
		ports[fmt.Sprintf("cla-%d", i)] = 1
	}
	base, err := newResourceSet(resource.EndpointType, toResources(historyCLAs(ports)))
	if err != nil {
		t.Fatal(err)
	}
	snap := &classSnapshot{}
	snap.sets[types.Endpoint] = base
	snap.setVersion()

	sets := []*resourceSet{base}
	stepChanged := [][]string{nil} // the names each step patched
	steps := 3*maxHistory + 5
	for range steps {
		var clas []*endpointv3.ClusterLoadAssignment
		var changed []string
		for _, i := range rng.Perm(names)[:1+rng.IntN(3)] { // distinct names
			n := fmt.Sprintf("cla-%d", i)
			ports[n] = 1 + (ports[n]+rng.IntN(3))%4 // 1..4, never the current port: values recur
			clas = append(clas, historyCLA(n, ports[n]))
			changed = append(changed, n)
		}
		next, k, err := snap.withEndpoints(clas)
		if err != nil {
			t.Fatal(err)
		}
		if k != len(clas) || next == snap {
			t.Fatalf("withEndpoints patched %d of %d changed assignments", k, len(clas))
		}
		rs := next.sets[types.Endpoint]
		fresh, err := newResourceSet(resource.EndpointType, toResources(historyCLAs(ports)))
		if err != nil {
			t.Fatal(err)
		}
		if rs.version != fresh.version || rs.bytes != fresh.bytes {
			t.Fatalf("patched set version %s (%d bytes), built from scratch %s (%d bytes)", rs.version, rs.bytes, fresh.version, fresh.bytes)
		}
		if next.set(resource.ClusterType) != snap.set(resource.ClusterType) {
			t.Fatal("patched snapshot does not share its other sets")
		}
		snap = next
		sets = append(sets, rs)
		stepChanged = append(stepChanged, changed)
		checkHistory(t, sets, stepChanged)
	}

	// Old sets can be collected: the chain is cut.
	reach := 0
	for cur := sets[len(sets)-1]; cur.parent.Load() != nil; cur = cur.parent.Load() {
		reach++
	}
	if reach < maxHistory || reach >= 2*maxHistory {
		t.Errorf("the newest set reaches %d generations back, want [%d, %d)", reach, maxHistory, 2*maxHistory)
	}

	// An unrelated set with the same contents: no names differ.
	same, err := newResourceSet(resource.EndpointType, toResources(historyCLAs(ports)))
	if err != nil {
		t.Fatal(err)
	}
	if got := same.changedSince(sets[len(sets)-1]); len(got) != 0 {
		t.Errorf("an unrelated set with equal contents changed %v", got)
	}
}

// checkHistory checks changedSince from every earlier set to the newest,
// as a stream sees it: streams diff the newest set against what they hold.
func checkHistory(t *testing.T, sets []*resourceSet, stepChanged [][]string) {
	t.Helper()
	j := len(sets) - 1
	to := sets[j]
	if got := to.changedSince(to); got != nil {
		t.Errorf("set %d changed since itself: %v", j, got)
	}
	for i := range j {
		from := sets[i]
		got := nameSet(to.changedSince(from))
		for _, n := range diffNames(from, to) {
			if !got[n] {
				t.Errorf("%d→%d: changedSince lacks %s, which differs", i, j, n)
			}
		}
		switch dist := j - i; {
		case dist <= maxHistory: // within the history: its names
			var hist []string
			for k := i + 1; k <= j; k++ {
				hist = append(hist, stepChanged[k]...)
			}
			if want := nameSet(hist); !maps.Equal(got, want) {
				t.Errorf("%d→%d: changedSince = %v, history says %v", i, j, got, want)
			}
		case dist >= 2*maxHistory: // cut: compared in full
			if want := nameSet(diffNames(from, to)); !maps.Equal(got, want) {
				t.Errorf("%d→%d (beyond the history): changedSince = %v, full diff %v", i, j, got, want)
			}
		}
		// Backwards (from is not an ancestor): compared in full.
		if back, want := nameSet(from.changedSince(to)), nameSet(diffNames(to, from)); !maps.Equal(back, want) {
			t.Errorf("%d←%d: changedSince = %v, full diff %v", i, j, back, want)
		}
	}
}

func toResources[T types.Resource](in []T) []types.Resource {
	out := make([]types.Resource, len(in))
	for i, r := range in {
		out[i] = r
	}
	return out
}

// historyResources is a translation with two clusters and their
// assignments (on port), and no listeners, routes or secrets.
func historyResources(port int) *translator.Resources {
	r := &translator.Resources{}
	for _, n := range []string{"a", "b"} {
		r.Clusters = append(r.Clusters, &clusterv3.Cluster{Name: n})
		r.Endpoints = append(r.Endpoints, historyCLA(n, port))
	}
	return r
}

// following replaces a set equal in version to the previous snapshot's by
// that one, so streams see no change, and links a changed one to it.
func TestSnapshotFollowing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		port    int    // of the next snapshot's assignments (the previous has 1)
		changed string // the type whose set differs
	}{
		{name: "identical", port: 1},
		{name: "endpoints changed", port: 2, changed: resource.EndpointType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev, _, err := newSnapshot(historyResources(1))
			if err != nil {
				t.Fatal(err)
			}
			next, _, err := newSnapshot(historyResources(tc.port))
			if err != nil {
				t.Fatal(err)
			}
			built := next.sets
			next.following(prev)
			for _, typ := range snapshotTypes {
				cur, old := next.set(typ), prev.set(typ)
				if typ != tc.changed {
					if cur != old {
						t.Errorf("%s: set not replaced by the previous one of the same version", typ)
					}
					continue
				}
				if cur != built[types.Endpoint] {
					t.Fatalf("%s: changed set replaced", typ)
				}
				if cur.parent.Load() != old {
					t.Errorf("%s: changed set not linked to the previous one", typ)
				}
				if got := slices.Sorted(slices.Values(cur.changedSince(old))); !slices.Equal(got, []string{"a", "b"}) {
					t.Errorf("%s: changedSince = %v, want [a b]", typ, got)
				}
			}
		})
	}

	// Without a previous snapshot nothing changes.
	s, _, err := newSnapshot(historyResources(1))
	if err != nil {
		t.Fatal(err)
	}
	sets := s.sets
	s.following(nil)
	if s.sets != sets {
		t.Error("following(nil) changed the sets")
	}
}
