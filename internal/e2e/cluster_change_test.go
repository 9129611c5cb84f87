package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// reviewsCluster is the gateway's Envoy cluster for the reviews VirtualDestination.
const reviewsCluster = "outbound|9080||reviews.mesh.internal.com"

// checkClusterOnlyChange writes world, which differs from the current one
// in the reviews cluster only, not in its load assignment, and checks the
// gateway takes the new cluster into use at once. Envoy re-creates a
// changed cluster and keeps it warming until its load assignment arrives;
// unless the control plane resends the unchanged assignment, the cluster
// warms only at initial_fetch_timeout (15 s). Traffic goes on during the
// change and must keep succeeding: the old cluster serves while the new
// one warms. It reports failures with t.Errorf, so a caller's next step
// (restoring the world) still runs.
func checkClusterOnlyChange(t *testing.T, top *topology, world worldParams, what string) {
	t.Helper()
	const warmWithin, interval = 2 * time.Second, 20 * time.Millisecond
	const maxPolls, requestsAfter = int(warmWithin / interval), 20
	gw := top.envoys["gateway-cluster-1"]
	before := envoyStats(t, gw)
	writeWorld(t, top.worldPath, world)
	start := time.Now()

	var now map[string]uint64
	var live bool
	var took time.Duration
	requests, failed := 0, 0
	send := func() {
		requests++
		if r, err := get("/reviews"); err != nil || !direct(r) {
			failed++
			t.Errorf("%s: request %d: answered by %+v, error %v; want cluster-1 via the gateway", what, requests, r, err)
		}
	}
	for i := 0; i < maxPolls && time.Since(start) < warmWithin; i++ {
		send()
		now = envoyStats(t, gw)
		// Both counters move on Envoy's main thread in the same CDS update,
		// as does the admin handler: a CDS update counted with no cluster
		// warming means the changed cluster is already live.
		if now["cluster_manager.cds.update_success"] > before["cluster_manager.cds.update_success"] &&
			now["cluster_manager.warming_clusters"] == 0 {
			live, took = true, time.Since(start)
			break
		}
		time.Sleep(interval)
	}
	if live {
		t.Logf("%s: cluster live %v after the world file was written", what, took.Round(time.Millisecond))
	} else {
		t.Errorf("%s: the gateway's cluster not live within %v: cds.update_success %d -> %d, warming_clusters %d",
			what, warmWithin, before["cluster_manager.cds.update_success"], now["cluster_manager.cds.update_success"], now["cluster_manager.warming_clusters"])
	}
	if got := activeClusterHasOutlierDetection(t, gw, reviewsCluster); got != world.ReviewsOutlierDetection {
		t.Errorf("%s: the gateway's live %s has outlier detection = %v, want %v", what, reviewsCluster, got, world.ReviewsOutlierDetection)
	}
	for i := 0; i < requestsAfter; i++ {
		send()
	}
	after := envoyStats(t, gw)
	if got := after["cluster."+reviewsCluster+".init_fetch_timeout"] - before["cluster."+reviewsCluster+".init_fetch_timeout"]; got != 0 {
		t.Errorf("%s: %s init_fetch_timeout rose by %d, want 0 (its load assignment never came)", what, reviewsCluster, got)
	}
	t.Logf("%s: %d/%d requests failed", what, failed, requests)
}

// activeClusterHasOutlierDetection reports whether e's active (warmed)
// dynamic cluster name carries outlier_detection; it fails t when e has no
// such active cluster.
func activeClusterHasOutlierDetection(t *testing.T, e *envoyrun.Envoy, name string) bool {
	t.Helper()
	var dump struct {
		Configs []struct {
			Cluster struct {
				Name             string          `json:"name"`
				OutlierDetection json.RawMessage `json:"outlier_detection"`
			} `json:"cluster"`
		} `json:"configs"`
	}
	adminJSON(t, e, "/config_dump?resource=dynamic_active_clusters", &dump)
	for _, c := range dump.Configs {
		if c.Cluster.Name == name {
			return len(c.Cluster.OutlierDetection) > 0
		}
	}
	t.Fatalf("no active dynamic cluster %s in the config dump", name)
	return false
}
