package translator

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

func TestLocalityPriority(t *testing.T) {
	proxy := model.Locality{Region: "us-east", Zone: "us-east-1a", Subzone: "rack-1"}
	for _, tc := range []struct {
		name string
		ep   model.Locality
		want uint32
	}{
		{"same subzone", model.Locality{Region: "us-east", Zone: "us-east-1a", Subzone: "rack-1"}, 0},
		{"same zone other subzone", model.Locality{Region: "us-east", Zone: "us-east-1a", Subzone: "rack-2"}, 1},
		{"same zone no subzone", model.Locality{Region: "us-east", Zone: "us-east-1a"}, 1},
		{"same region other zone", model.Locality{Region: "us-east", Zone: "us-east-1b", Subzone: "rack-1"}, 2},
		{"other region same zone name", model.Locality{Region: "eu-west", Zone: "us-east-1a", Subzone: "rack-1"}, 3},
		{"empty locality", model.Locality{}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := localityPriority(proxy, tc.ep); got != tc.want {
				t.Errorf("localityPriority(%v, %v) = %d, want %d", proxy, tc.ep, got, tc.want)
			}
		})
	}
}

func TestPriorityForTrafficDistribution(t *testing.T) {
	proxy := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	far := model.Locality{Region: "eu-west", Zone: "eu-west-1a"}
	if got := priorityFor(model.TrafficDistributionDefault, proxy).level(far); got != 0 {
		t.Errorf("unset trafficDistribution: priority %d, want 0", got)
	}
	if got := priorityFor(model.TrafficDistributionPreferClose, proxy).level(far); got != priorityOtherRegion {
		t.Errorf("PreferClose: priority %d, want %d", got, priorityOtherRegion)
	}
}

func TestCompactPriorities(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  []uint32
		want map[uint32]uint32
	}{
		{"none", nil, map[uint32]uint32{}},
		{"only zero", []uint32{0, 0}, map[uint32]uint32{0: 0}},
		{"contiguous stays", []uint32{2, 0, 1}, map[uint32]uint32{0: 0, 1: 1, 2: 2}},
		{"missing zero", []uint32{3, 1, 2}, map[uint32]uint32{1: 0, 2: 1, 3: 2}},
		{"gap in the middle", []uint32{0, 3, 3}, map[uint32]uint32{0: 0, 3: 1}},
		{"only other region", []uint32{3}, map[uint32]uint32{3: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, compactPriorities(tc.raw)); diff != "" {
				t.Errorf("compactPriorities(%v) (-want +got):\n%s", tc.raw, diff)
			}
		})
	}
}

// TestAssignmentPriorities checks the priorities and order of localities in
// a rendered assignment for PreferClose proxies in different places.
func TestAssignmentPriorities(t *testing.T) {
	a := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	b := model.Locality{Region: "us-east", Zone: "us-east-1b"}
	c := model.Locality{Region: "us-west", Zone: "us-west-1a"}
	d := model.Locality{Region: "eu-west", Zone: "eu-west-1a"}
	set := newEndpointSet()
	set.addLocal(c, false, "127.0.1.12", 9080)
	set.addLocal(a, false, "127.0.1.10", 9080)
	set.addLocal(b, false, "127.0.1.11", 9080)
	set.addLocal(d, false, "127.0.1.13", 9080)

	type level struct {
		Locality string
		Priority uint32
	}
	for _, tc := range []struct {
		name  string
		proxy model.Locality
		want  []level
	}{
		{"in zone a", a, []level{{a.String(), 0}, {b.String(), 1}, {d.String(), 2}, {c.String(), 2}}},
		{"in zone b", b, []level{{b.String(), 0}, {a.String(), 1}, {d.String(), 2}, {c.String(), 2}}},
		{"in eu-west", d, []level{{d.String(), 0}, {a.String(), 1}, {b.String(), 1}, {c.String(), 1}}},
		{"nowhere known", model.Locality{Region: "ap-south"}, []level{{d.String(), 0}, {a.String(), 0}, {b.String(), 0}, {c.String(), 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cla := set.assignment("x", priorityFor(model.TrafficDistributionPreferClose, tc.proxy))
			var got []level
			for _, e := range cla.GetEndpoints() {
				l := model.Locality{Region: e.GetLocality().GetRegion(), Zone: e.GetLocality().GetZone(), Subzone: e.GetLocality().GetSubZone()}
				got = append(got, level{l.String(), e.GetPriority()})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("levels (-want +got):\n%s", diff)
			}
			if err := checkPriorities(cla.GetEndpoints()); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestStalePriorities: stale endpoints rank after every fresh endpoint,
// whatever the trafficDistribution; among themselves they keep its order.
func TestStalePriorities(t *testing.T) {
	a := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	b := model.Locality{Region: "us-east", Zone: "us-east-1b"}
	c := model.Locality{Region: "us-west", Zone: "us-west-1a"}
	type level struct {
		Locality string
		Stale    bool
		Priority uint32
	}
	type ep struct {
		loc   model.Locality
		stale bool
	}
	for _, tc := range []struct {
		name string
		td   string
		eps  []ep
		want []level
	}{
		{"balanced: fresh everywhere, then stale", model.TrafficDistributionDefault,
			[]ep{{a, true}, {c, false}, {b, true}, {a, false}},
			[]level{{a.String(), false, 0}, {c.String(), false, 0}, {a.String(), true, 1}, {b.String(), true, 1}}},
		{"balanced: only stale is priority 0", model.TrafficDistributionDefault,
			[]ep{{c, true}},
			[]level{{c.String(), true, 0}}},
		{"prefer close: a stale local zone ranks below a fresh other region", model.TrafficDistributionPreferClose,
			[]ep{{a, true}, {c, false}, {b, true}},
			[]level{{c.String(), false, 0}, {a.String(), true, 1}, {b.String(), true, 2}}},
		{"prefer close: fresh levels untouched, stale after the last", model.TrafficDistributionPreferClose,
			[]ep{{a, false}, {b, false}, {c, true}},
			[]level{{a.String(), false, 0}, {b.String(), false, 1}, {c.String(), true, 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := newEndpointSet()
			stale := map[string]bool{}
			for i, e := range tc.eps {
				addr := fmt.Sprintf("10.0.0.%d", i+1)
				stale[addr] = e.stale
				set.addLocal(e.loc, e.stale, addr, 9080)
			}
			cla := set.assignment("x", priorityFor(tc.td, a))
			var got []level
			for _, e := range cla.GetEndpoints() {
				l := model.Locality{Region: e.GetLocality().GetRegion(), Zone: e.GetLocality().GetZone(), Subzone: e.GetLocality().GetSubZone()}
				addr := e.GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress().GetAddress()
				got = append(got, level{l.String(), stale[addr], e.GetPriority()})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("levels (-want +got):\n%s", diff)
			}
			if err := checkPriorities(cla.GetEndpoints()); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestAssignmentRanksAndWeights checks that label ranks order before
// localities, stale endpoints come after every fresh rank, and a ranking's
// weight multiplies the locality weight.
func TestAssignmentRanksAndWeights(t *testing.T) {
	us := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	eu := model.Locality{Region: "eu-west", Zone: "eu-west-1a"}
	set := newEndpointSet()
	set.addLocalRanked(groupKey{locality: us, rank: 1}, "127.0.1.10", 9080)
	set.addLocalRanked(groupKey{locality: eu, rank: 0}, "127.0.3.10", 9080)
	set.addLocalRanked(groupKey{locality: eu, rank: 0}, "127.0.3.11", 9080)
	set.addLocalRanked(groupKey{locality: us, rank: 0, stale: true}, "127.0.1.20", 9080)
	set.addLocalRanked(groupKey{locality: eu, rank: 1}, "127.0.3.12", 9080)
	rk := failoverRanking{proxy: us, mapping: &v1alpha1.LocalityMapping{
		From: v1alpha1.Locality{Region: "us-east"},
		To:   []v1alpha1.WeightedLocality{{Region: "eu-west", Weight: 5}},
	}}
	type level struct {
		Locality string
		Priority uint32
		Weight   uint32
	}
	var got []level
	for _, l := range set.assignment("x", rk).GetEndpoints() {
		got = append(got, level{l.GetLocality().GetRegion(), l.GetPriority(), l.GetLoadBalancingWeight().GetValue()})
	}
	want := []level{
		{"eu-west", 0, 10}, // rank 0 beats the proxy's own region; weight 2 endpoints x 5
		{"us-east", 1, 1},  // rank 1, closest
		{"eu-west", 2, 5},  // rank 1, mapped target
		{"us-east", 3, 1},  // stale, whatever its rank
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
}
