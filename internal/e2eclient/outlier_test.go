package e2eclient

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testOutlierKeepsLocal: the same Services, two names. spread.global has
// no policy and is balanced over both clusters; app.global has the
// OutlierDetectionPolicy, which keeps it in cluster-1. Then one cluster-1
// instance fails: after at most consecutiveErrors failed calls it is
// ejected and the other three serve everything, still none in cluster-2
// (three of four healthy is above Envoy's overprovisioning threshold).
func testOutlierKeepsLocal(t *testing.T, top *topology) {
	ctx := context.Background()
	c := top.httpClient(false)
	const n = 100
	spread := top.send(ctx, c, spreadHost, appPort, n)
	record(t, spread.requests, spread.failed, "%s (no policy): clusters %v", spreadHost, spread.byCluster)
	if spread.failed > 0 || spread.byCluster["cluster-1"] == 0 || spread.byCluster["cluster-2"] == 0 {
		t.Errorf("%s without a policy: want answers from both clusters and no failure: %s", spreadHost, spread)
	}
	local := top.send(ctx, c, appHost, appPort, n)
	record(t, local.requests, local.failed, "%s (outlier policy): clusters %v", appHost, local.byCluster)
	if local.failed > 0 || local.byCluster["cluster-1"] != n {
		t.Errorf("%s with the outlier policy: want all %d answered by cluster-1: %s", appHost, n, local)
	}

	failing := top.backends["app-c1-a"]
	failing.SetFailStatus(http.StatusServiceUnavailable)
	defer failing.Reset()
	before := top.outlierEjections(t)
	// The failing instance gets every fourth call (round robin) until it is
	// ejected; 20 calls give it more than consecutiveErrors turns.
	const warm, after = 20, 80
	ejecting := newTally()
	for i := 0; i < warm; i++ {
		r, _, err := top.call(ctx, c, appHost, appPort, "/")
		ejecting.add(r, err)
	}
	ejections := top.outlierEjections(t) - before
	rest := top.send(ctx, c, appHost, appPort, after)
	record(t, warm+after, ejecting.failed+rest.failed, "app-c1-a answering 503: %d failed of the first %d calls, %d ejection(s); next %d calls: instances %s",
		ejecting.failed, warm, ejections, after, sortedCounts(rest.byInstance))
	if ejecting.failed == 0 || ejecting.failed > outlierConsecutiveErrors {
		t.Errorf("first %d calls with app-c1-a failing: %d failed, want 1 to %d (consecutiveErrors) before the ejection: %s",
			warm, ejecting.failed, outlierConsecutiveErrors, ejecting)
	}
	if ejections < 1 {
		t.Errorf("client proxy counted %d outlier ejections on %s's cluster, want at least 1", ejections, appHost)
	}
	if rest.failed > 0 || rest.byCluster["cluster-1"] != after || rest.byInstance["app-c1-a"] != 0 {
		t.Errorf("after the ejection: want all %d calls answered by cluster-1's three healthy instances: %s", after, rest)
	}
}

// outlierEjections sums the client proxy's enforced outlier ejections on
// app.global's clusters.
func (top *topology) outlierEjections(t *testing.T) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := top.envoys["client-cluster-1"].Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sum uint64
	for k, v := range stats {
		if strings.Contains(k, "||"+appHost) && strings.HasSuffix(k, ".outlier_detection.ejections_enforced_total") {
			sum += v
		}
	}
	return sum
}
