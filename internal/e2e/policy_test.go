package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// TestTrafficPolicies runs the issue-4 policies against real Envoys: the
// policy world (policy_world_test.go) with the real `causeway serve`, a
// gateway proxy in cluster-1 and east-west gateways in cluster-2 and -3.
// Backends misbehave on demand through their failure knobs. The subtests
// share the topology; each restores what it changed.
func TestTrafficPolicies(t *testing.T) {
	running := policyParams{Cluster1ProductsReady: true, Conflict: true}
	top := startMesh(t, meshSpec{world: renderPolicyWorld(running), backends: policyBackends, proxies: policyProxies})
	// The Envoys are ready, but their first endpoints may still be on the way.
	awaitPolicy(t, "/reviews-v1", 20*time.Second, "an answer from reviews", answer.ok)

	t.Run("SubsetRouteReachesOnlyV1", func(t *testing.T) { testSubsetOnlyV1(t) })
	t.Run("WeightedSplitWithinFivePoints", func(t *testing.T) { testWeightedSplit(t) })
	t.Run("RetriesHideAFailingInstance", func(t *testing.T) { testRetries(t, top) })
	t.Run("RequestTimeoutGives504", func(t *testing.T) { testTimeout(t, top) })
	t.Run("HostConflictOlderServesNewerReported", func(t *testing.T) { testConflict(t, top) })
	t.Run("OutlierEjectedThenReturns", func(t *testing.T) { testOutlier(t, top) })
	t.Run("FailoverPolicyPrefersMappedRegion", func(t *testing.T) { testFailoverMapping(t, top, running) })
	t.Run("NoEnvoyRejectedAnUpdate", func(t *testing.T) { e2eutil.CheckNoRejectedUpdates(t, top.envoys) })
}

// testSubsetOnlyV1: the route's Subset v1 filter leaves every v2 instance
// out, in cluster-1 (direct) and behind the east-west gateways alike (each
// serves the v1 subset's SNI with only its v1 endpoints). The destination
// has no locality priority, so all three clusters answer.
func testSubsetOnlyV1(t *testing.T) {
	const n = 200
	byInstance := countAnswers(t, "/reviews-v1", n, "a 200 from a reviews v1 instance, direct or via its east-west gateway",
		func(a answer) bool {
			return a.backend.Version == "v1" && strings.HasPrefix(a.backend.Instance, "reviews-") && (directFrom(a) || remote(a))
		},
		func(a answer) string { return a.backend.Instance })
	t.Logf("%d requests to subset v1: %v", n, byInstance)
	for _, inst := range []string{"reviews-c1-v1", "reviews-c2-v1", "reviews-c3-v1"} {
		if byInstance[inst] == 0 {
			t.Errorf("%s never answered in %d requests: the subset should span every cluster", inst, n)
		}
	}
}

// testWeightedSplit: an 80/20 split over 1,000 requests lands within ±5
// points (the binomial standard deviation is 1.3 points).
func testWeightedSplit(t *testing.T) {
	awaitPolicy(t, "/split", 10*time.Second, "an answer from split-a or split-b", answer.ok)
	const n = 1000
	start := time.Now()
	byInstance := countAnswers(t, "/split", n, "a 200 from split-a or split-b",
		func(a answer) bool { return directFrom(a) && strings.HasPrefix(a.backend.Instance, "split-") },
		func(a answer) string { return a.backend.Instance })
	took := time.Since(start)
	pct := 100 * float64(byInstance["split-a"]) / n
	t.Logf("%d requests in %v: %v (split-a %.1f%%, want %d±5)", n, took.Round(time.Millisecond), byInstance, pct, splitWeightA)
	if pct < splitWeightA-5 || pct > splitWeightA+5 {
		t.Errorf("split-a got %.1f%% of %d requests, want %d%% ± 5 points", pct, n, splitWeightA)
	}
	if took > 30*time.Second {
		t.Errorf("%d requests took %v, want < 30s", n, took)
	}
}

// testRetries: one of three ratings instances answers 503; the route
// retries 503 twice on other hosts, so every request succeeds, and Envoy's
// retry counter shows the failing instance really got first tries.
func testRetries(t *testing.T, top *topology) {
	awaitPolicy(t, "/ratings", 10*time.Second, "an answer from ratings", answer.ok)
	gw := top.envoys[policyProxies[0].Name]
	retryStat := "|ratings.mesh.internal.com.upstream_rq_retry"
	before := sumStats(t, gw, retryStat)

	failing := top.backends["ratings-b"]
	failing.SetFailStatus(503)
	defer failing.Reset()
	const n = 200
	byInstance := countAnswers(t, "/ratings", n, "a 200 from ratings-a or ratings-c",
		func(a answer) bool {
			return directFrom(a) && (a.backend.Instance == "ratings-a" || a.backend.Instance == "ratings-c")
		},
		func(a answer) string { return a.backend.Instance })
	retries := sumStats(t, gw, retryStat) - before
	t.Logf("%d requests with ratings-b answering 503: %v, %d retries", n, byInstance, retries)
	// ratings-b gets about a third of the first tries; fewer than 20 of
	// 200 would mean it was not really in rotation.
	if retries < 20 {
		t.Errorf("*%s rose by %d over %d requests, want >= 20: the failing instance was hardly tried", retryStat, retries, n)
	}
}

// testTimeout: the rule's request timeout (500ms) cuts a backend delayed
// 2s short with Envoy's 504.
func testTimeout(t *testing.T, top *topology) {
	awaitPolicy(t, "/slow", 10*time.Second, "an answer from slow", answer.ok)
	slow := top.backends["slow"]
	slow.SetDelay(2 * time.Second)
	defer slow.Reset()
	a, err := policyGet("/slow")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("/slow with the backend delayed 2s: %s after %v", a, a.took.Round(time.Millisecond))
	if a.status != 504 || a.fromBackend {
		t.Errorf("/slow = %s, want Envoy's 504", a)
	}
	timeout := slowTimeoutMillis * time.Millisecond
	if a.took < timeout-50*time.Millisecond || a.took > timeout+time.Second {
		t.Errorf("504 after %v, want about the route timeout %v", a.took, timeout)
	}
}
