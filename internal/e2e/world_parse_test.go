package e2e

import (
	"testing"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

// TestWorldFileParses keeps the test world valid without Envoy: a typo here
// would otherwise show up only as a confusing traffic failure.
func TestWorldFileParses(t *testing.T) {
	for _, p := range []worldParams{
		{ReviewsDistribution: model.TrafficDistributionPreferClose, Cluster1ReviewsReady: true},
		{ReviewsDistribution: model.TrafficDistributionPreferClose, Cluster1ReviewsReady: false},
		{Cluster1ReviewsReady: true},
		{ReviewsDistribution: model.TrafficDistributionPreferClose, Cluster1ReviewsReady: true, ReviewsOutlierDetection: true},
	} {
		snap, err := file.Parse("world.yaml", renderWorld(p))
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if got := len(snap.Services()); got != 3 {
			t.Errorf("%+v: %d services, want 3", p, got)
		}
		vds := snap.VirtualDestinations()
		if len(vds) != 2 {
			t.Fatalf("%+v: %d VirtualDestinations, want 2", p, len(vds))
		}
		var reviews *model.VirtualDestination
		for i := range vds {
			if vds[i].Name == "reviews" {
				reviews = &vds[i]
			}
		}
		if reviews == nil || reviews.TrafficDistribution != p.ReviewsDistribution {
			t.Errorf("%+v: reviews VirtualDestination = %+v", p, reviews)
		}
		if got, want := len(snap.OutlierDetectionPolicies()), boolInt(p.ReviewsOutlierDetection); got != want {
			t.Errorf("%+v: %d OutlierDetectionPolicies, want %d", p, got, want)
		}
		for _, svc := range snap.Services() {
			for _, ep := range svc.Endpoints {
				want := svc.Cluster != "cluster-1" || p.Cluster1ReviewsReady
				if ep.Ready != want {
					t.Errorf("%+v: %s endpoint %s ready=%v, want %v", p, svc.Name, ep.Address, ep.Ready, want)
				}
			}
		}
	}
}
