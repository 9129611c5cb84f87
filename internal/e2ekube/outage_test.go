package e2ekube

import (
	"testing"
	"time"
)

// testAPIServerOutage: with cluster-2's API server gone, its endpoints stay;
// after --stale-after they drop below every fresh endpoint (trafficDistribution
// unset puts both clusters at priority 0 while fresh, so the drop shows);
// with the API server back they are fresh again.
func (s *suite) testAPIServerOutage(t *testing.T) {
	s.mgmt.apply(t, render(configTemplate, config{PreferClose: false}))
	fresh := concat(
		group(0, c1Locality, local(v1Address), local(v2Address)),
		group(0, c2Locality, viaEastWest(cluster2EastWest, 1)))
	stale := concat(
		group(0, c1Locality, local(v1Address), local(v2Address)),
		group(1, c2Locality, viaEastWest(cluster2EastWest, 1)))
	s.gw1.await(t, convergeWithin, "trafficDistribution unset: both clusters at priority 0", equals(fresh...))
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_stale{cluster="cluster-2"}`, 0)

	mark := s.gw1.mark()
	stopped := time.Now()
	if err := s.env.Cluster("cluster-2").Stop(); err != nil {
		t.Fatal(err)
	}
	u := s.gw1.await(t, staleAfter+convergeWithin, "cluster-2 stale: lowest priority", equals(stale...))
	took := u.at.Sub(stopped)
	t.Logf("cluster-2 API server killed: its endpoints went stale %v later (--stale-after %v)", took.Round(time.Millisecond), staleAfter)
	if took < staleAfter {
		t.Errorf("cluster-2's endpoints went stale %v after the kill, before --stale-after %v", took, staleAfter)
	}
	for _, u := range s.gw1.since(mark) {
		if u.cla == nil || !hasAddress(u.cla, cluster2EastWest) {
			t.Errorf("outage: at +%v cluster-1's gateway got an assignment without cluster-2:\n%s",
				u.at.Sub(stopped).Round(time.Millisecond), describe(u.cla))
		}
	}
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_stale{cluster="cluster-2"}`, 1)
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_reachable{cluster="cluster-2"}`, 0)

	started := time.Now()
	if err := s.env.Cluster("cluster-2").Start(); err != nil {
		t.Fatal(err)
	}
	ready := time.Now()
	// client-go backs off reconnecting while the server is down (up to
	// 30 s between attempts), hence the longer bound.
	u = s.gw1.await(t, 60*time.Second, "cluster-2 back: fresh again", equals(fresh...))
	t.Logf("cluster-2 API server restarted (ready in %v): endpoints fresh %v after it was ready",
		ready.Sub(started).Round(time.Millisecond), u.at.Sub(ready).Round(time.Millisecond))
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_stale{cluster="cluster-2"}`, 0)
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_reachable{cluster="cluster-2"}`, 1)
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_synced{cluster="cluster-2"}`, 1)
}
