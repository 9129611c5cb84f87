package e2ekube

import (
	"fmt"
	"testing"
	"time"
)

// convergeWithin bounds how long a change in an API server may take to reach
// a proxy over ADS. Informers see it in milliseconds; the bound is generous
// for a loaded 2-core machine, and the measured time is logged.
const convergeWithin = 10 * time.Second

// testBothClusters: the VirtualDestination selecting app: reviews yields
// cluster-1's endpoints as themselves and cluster-2's as its east-west
// gateway (from its Secret), in the localities of their Nodes, prioritised
// by PreferClose relative to each gateway.
func (s *suite) testBothClusters(t *testing.T) {
	// The first sync of every cluster happened before /readyz; allow for
	// the first snapshot on top.
	u := s.gw1.await(t, convergeWithin, "cluster-1 gateway: endpoints of both clusters", equals(baseline1()...))
	t.Logf("cluster-1 gateway:\n%s", describe(u.cla))
	u = s.gw2.await(t, convergeWithin, "cluster-2 gateway: endpoints of both clusters", equals(baseline2()...))
	t.Logf("cluster-2 gateway:\n%s", describe(u.cla))
}

// testNotReadyEndpoints: an endpoint turning not ready leaves EDS; with no
// ready endpoint left in cluster-1, cluster-2 becomes priority 0; ready
// again, everything comes back.
func (s *suite) testNotReadyEndpoints(t *testing.T) {
	s.gw1.await(t, convergeWithin, "baseline", equals(baseline1()...))
	for _, step := range []struct {
		name     string
		state    workloads
		gateway1 []lbEntry
		gateway2 []lbEntry
	}{
		{
			name:  "v2 not ready",
			state: workloads{V1Ready: true},
			gateway1: concat(
				group(0, c1Locality, local(v1Address)),
				group(1, c2Locality, viaEastWest(cluster2EastWest, 1))),
			gateway2: concat(
				group(0, c2Locality, local(v3Address)),
				group(1, c1Locality, viaEastWest(cluster1EastWest, 1))),
		},
		{
			name:     "no cluster-1 endpoint ready",
			state:    workloads{},
			gateway1: group(0, c2Locality, viaEastWest(cluster2EastWest, 1)),
			gateway2: group(0, c2Locality, local(v3Address)),
		},
		{
			name:     "all ready again",
			state:    allReady,
			gateway1: baseline1(),
			gateway2: baseline2(),
		},
	} {
		start := time.Now()
		s.c1.apply(t, render(cluster1Template, step.state))
		u := s.gw1.await(t, convergeWithin, step.name+": cluster-1 gateway", equals(step.gateway1...))
		t.Logf("%s: cluster-1 gateway updated %v after the EndpointSlice write", step.name, u.at.Sub(start).Round(time.Millisecond))
		s.gw2.await(t, convergeWithin, step.name+": cluster-2 gateway", equals(step.gateway2...))
	}
}

// unchangedSince reports an error naming the first assignment since mark
// that differs from want.
func unchangedSince(w *edsWatch, mark int, want []lbEntry) error {
	check := equals(want...)
	for _, u := range w.since(mark) {
		if u.cla == nil {
			return fmt.Errorf("at %v the assignment was removed", u.at.Format(time.StampMilli))
		}
		if err := check(u.cla); err != nil {
			return fmt.Errorf("at %v: %w", u.at.Format(time.StampMilli), err)
		}
	}
	return nil
}
