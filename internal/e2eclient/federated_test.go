package e2eclient

import (
	"context"
	"math"
	"testing"

	"github.com/causeway-dev/causeway/internal/backend"
)

// testFederatedHostnames: each cluster's federated name reaches exactly
// that cluster's Service: cluster-1's instances directly, cluster-2's
// through its east-west gateway (classify checks the hop), which balances
// between its replicas: every instance of the named cluster answers.
func testFederatedHostnames(t *testing.T, top *topology) {
	ctx := context.Background()
	c := top.httpClient(false)
	for _, tc := range []struct {
		host, cluster string
		n, instances  int
	}{
		{fedHost1, "cluster-1", 40, 4},
		{fedHost2, "cluster-2", 40, 2},
	} {
		addr, err := top.pod.resolve(ctx, clientDNS, tc.host)
		if err != nil {
			t.Fatal(err)
		}
		if addr.String() != clientAddress {
			t.Errorf("%s resolved to %s, want the client proxy's %s", tc.host, addr, clientAddress)
		}
		top.awaitAnswer(t, c, tc.host, appPort, "first answer", inCluster(tc.cluster))
		tl := top.send(ctx, c, tc.host, appPort, tc.n)
		record(t, tl.requests, tl.failed, "%s: clusters %v, instances %s", tc.host, tl.byCluster, sortedCounts(tl.byInstance))
		if tl.failed > 0 || tl.byCluster[tc.cluster] != tc.n {
			t.Errorf("%s: want all %d answered by %s: %s", tc.host, tc.n, tc.cluster, tl)
		}
		if len(tl.byInstance) != tc.instances {
			t.Errorf("%s: %d instances answered, want all %d of %s: %s", tc.host, len(tl.byInstance), tc.instances, tc.cluster, tl)
		}
	}
}

// testRouteSplit: the HTTPRoute attached to split.global's
// VirtualDestination sends 80% to cluster-1's federated name and 20% to
// cluster-2's. Over 400 calls cluster-2's share has a standard deviation
// of 2 points; the tolerance is 7 (3.5 standard deviations).
func testRouteSplit(t *testing.T, top *topology) {
	ctx := context.Background()
	c := top.httpClient(false)
	top.awaitAnswer(t, c, splitHost, appPort, "first answer", func(backend.Response) bool { return true })
	const n, tolerance = 400, 7.0
	tl := top.send(ctx, c, splitHost, appPort, n)
	share2 := 100 * float64(tl.byCluster["cluster-2"]) / float64(n)
	record(t, tl.requests, tl.failed, "%s: cluster-1 %d, cluster-2 %d (%.1f%%, want %d%% ± %.0f)",
		splitHost, tl.byCluster["cluster-1"], tl.byCluster["cluster-2"], share2, splitWeight2, tolerance)
	if tl.failed > 0 || tl.byCluster["cluster-1"]+tl.byCluster["cluster-2"] != n {
		t.Errorf("%s: want all %d answered: %s", splitHost, n, tl)
	}
	if math.Abs(share2-splitWeight2) > tolerance {
		t.Errorf("%s: cluster-2 answered %.1f%% of %d calls, want %d%% ± %.0f: %s", splitHost, share2, n, splitWeight2, tolerance, tl)
	}
}
