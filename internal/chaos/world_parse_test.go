package chaos

import (
	"testing"

	"github.com/causeway-dev/causeway/discovery/file"
)

// TestChaosWorldParses keeps the chaos world and its half-written cut as the
// scenarios assume, without Envoy: a typo would otherwise show up only as a
// confusing traffic failure.
func TestChaosWorldParses(t *testing.T) {
	p := worldParams{Ready: [3]bool{true, false, true}, Gen: 7}
	world := renderWorld(p)
	snap, err := file.Parse("world.yaml", world)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(snap.Clusters()); got != 3 {
		t.Errorf("%d clusters, want 3", got)
	}
	if got := len(snap.Services()); got != 3 {
		t.Fatalf("%d services, want 3", got)
	}
	for _, svc := range snap.Services() {
		want := svc.Cluster != "cluster-2"
		for _, ep := range svc.Endpoints {
			if ep.Ready != want {
				t.Errorf("%s endpoint %s ready=%v, want %v", svc.Cluster, ep.Address, ep.Ready, want)
			}
		}
	}
	if len(snap.Gateways()) != 1 || len(snap.HTTPRoutes()) != 1 || len(snap.VirtualDestinations()) != 1 {
		t.Errorf("gateways %d, routes %d, VirtualDestinations %d; want one each",
			len(snap.Gateways()), len(snap.HTTPRoutes()), len(snap.VirtualDestinations()))
	}
	if rules := snap.HTTPRoutes()[0].Spec.Rules; len(rules) != 2 {
		t.Errorf("%d route rules, want /echo and %s", len(rules), markerPath(p.Gen))
	}

	// The first half of a paused write is itself a valid world, without
	// the Gateway and route: publishing it would drop every route.
	first, rest := halfWorld(t, world)
	if string(first)+string(rest) != string(world) {
		t.Fatal("halfWorld's parts do not add up to the world")
	}
	half, err := file.Parse("world.yaml", first)
	if err != nil {
		t.Fatalf("first half: %v", err)
	}
	if len(half.Clusters()) == 0 || len(half.Gateways()) != 0 || len(half.HTTPRoutes()) != 0 {
		t.Errorf("first half: %d clusters, %d gateways, %d routes; want clusters and no gateway or route",
			len(half.Clusters()), len(half.Gateways()), len(half.HTTPRoutes()))
	}
}
