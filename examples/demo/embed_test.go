package demo_test

import (
	"testing"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/examples/demo"
)

// The embedded world is what `make demo` runs: it must load without errors
// and hold the walk-through's objects.
func TestWorldLoads(t *testing.T) {
	w, err := file.Parse("examples/demo/world.yaml", demo.World)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(w.Clusters()); got != 2 {
		t.Errorf("%d clusters, want 2", got)
	}
	if got := len(w.Services()); got != 5 {
		t.Errorf("%d services, want 5", got)
	}
	vds := w.VirtualDestinations()
	if len(vds) != 2 || vds[1].Name != "reviews" || vds[1].TrafficDistribution != "PreferClose" {
		t.Errorf("VirtualDestinations = %+v, want ratings and reviews (PreferClose)", vds)
	}
	if got := len(w.SelectedServices(&vds[1])); got != 4 {
		t.Errorf("reviews selects %d services, want 4", got)
	}
	if len(w.Gateways()) != 1 || len(w.HTTPRoutes()) != 2 {
		t.Errorf("%d gateways and %d routes, want 1 and 2", len(w.Gateways()), len(w.HTTPRoutes()))
	}
}
