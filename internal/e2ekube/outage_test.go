package e2ekube

import (
	"runtime"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// testAPIServerOutage: with cluster-2's API server gone, its endpoints stay;
// after --stale-after they drop below every fresh endpoint (trafficDistribution
// unset puts both clusters at priority 0 while fresh, so the drop shows);
// with the API server back they are fresh again. Throughout, 50 requests a
// second go through the real gateway Envoy, to cluster-2 (through its
// east-west Envoy) as well as cluster-1, with every core busy, and none may
// fail: the chaos suite's workload API server outage (issue 10).
func (s *suite) testAPIServerOutage(t *testing.T) {
	s.startDataPlane(t)
	fresh := concat(
		group(0, c1Locality, local(v1Address), local(v2Address)),
		group(0, c2Locality, viaEastWest(cluster2EastWest, 1)))
	stale := concat(
		group(0, c1Locality, local(v1Address), local(v2Address)),
		group(1, c2Locality, viaEastWest(cluster2EastWest, 1)))
	s.gw1.await(t, convergeWithin, "trafficDistribution unset: both clusters at priority 0", equals(fresh...))
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_stale{cluster="cluster-2"}`, 0)

	// Bounds the whole scenario: stale within staleAfter+convergeWithin,
	// the restart, fresh within 60 s, v3 back within 30 s.
	tr := startTraffic(t, 3*time.Minute)
	if _, _, err := tr.AwaitStreak(tr.Start, 1, version("v3"), 20*time.Second); err != nil {
		t.Fatalf("before the outage, no answer from cluster-2: %v", err)
	}

	mark := s.gw1.mark()
	stopped := time.Now()
	if err := s.env.Cluster("cluster-2").Stop(); err != nil {
		t.Fatal(err)
	}
	u := s.gw1.await(t, staleAfter+convergeWithin, "cluster-2 stale: lowest priority", equals(stale...))
	staleAt := u.at
	took := staleAt.Sub(stopped)
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
	// The real Envoy took the demotion: cluster-1's healthy endpoints at
	// priority 0 take every request. A second of answers without v3 comes
	// by chance with probability (2/3)^50 < 1e-8 while both clusters share
	// priority 0.
	_, demoted, err := tr.AwaitStreak(staleAt, 50, func(a e2eutil.Answer) bool { return a.Class != "v3" }, 15*time.Second)
	if err != nil {
		t.Fatalf("cluster-2 stale, but the gateway Envoy still sends there: %v", err)
	}

	started := time.Now()
	if err := s.env.Cluster("cluster-2").Start(); err != nil {
		t.Fatal(err)
	}
	ready := time.Now()
	// client-go backs off reconnecting while the server is down (up to
	// 30 s between attempts), hence the longer bound.
	u = s.gw1.await(t, 60*time.Second, "cluster-2 back: fresh again", equals(fresh...))
	freshAt := u.at
	t.Logf("cluster-2 API server restarted (ready in %v): endpoints fresh %v after it was ready",
		ready.Sub(started).Round(time.Millisecond), freshAt.Sub(ready).Round(time.Millisecond))
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_stale{cluster="cluster-2"}`, 0)
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_reachable{cluster="cluster-2"}`, 1)
	s.cp.awaitMetric(t, convergeWithin, `causeway_cluster_synced{cluster="cluster-2"}`, 1)
	v3Back, _, err := tr.AwaitStreak(freshAt, 1, version("v3"), 30*time.Second)
	if err != nil {
		t.Errorf("cluster-2 fresh again, but the gateway Envoy does not send there: %v", err)
	}

	res, slowest := tr.Finish()
	// Once demoted, cluster-2 is the last resort until it is fresh again,
	// which cannot be before its API server is back.
	v3WhileStale := tr.Count("v3", staleAt.Add(demoted), started)
	t.Logf("API server outage (cluster-2), %d cores busy:\n"+
		"  %-8s %-8s %-9s %-8s %-8s %-9s %-14s %-12s %-15s %s\n"+
		"  %-8v %-8d %-9d %-8v %-8v %-9v %-14v %-12v %-15d %v",
		runtime.NumCPU(),
		"took", "requests", "failures", "slowest", "outage", "stale at", "Envoy demoted", "fresh after", "v3 while stale", "v3 back after fresh",
		res.Elapsed.Round(time.Second), res.Total, res.Failed, slowest.Took.Round(time.Millisecond),
		ready.Sub(stopped).Round(100*time.Millisecond), took.Round(100*time.Millisecond), demoted.Round(10*time.Millisecond),
		freshAt.Sub(ready).Round(100*time.Millisecond), v3WhileStale, v3Back.Round(time.Millisecond))
	tr.CheckNoFailures(t, res, "cluster-2's API server outage")
	if v3WhileStale > 0 {
		t.Errorf("%d requests reached cluster-2 after the gateway Envoy had demoted it (%v after the stale assignment) and before its API server was back, want none: stale endpoints are the last resort",
			v3WhileStale, demoted.Round(10*time.Millisecond))
	}
}

// version matches an answer from reviews version v.
func version(v string) func(e2eutil.Answer) bool {
	return func(a e2eutil.Answer) bool { return a.Class == v }
}
