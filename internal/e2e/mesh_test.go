package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// TestMultiCluster runs one topology through a sequence of worlds, once
// with the Envoys on delta ADS and once on state of the world, whose
// load assignments after the first response are only the changed ones.
func TestMultiCluster(t *testing.T) {
	for _, protocol := range []string{"delta", "sotw"} {
		t.Run(protocol, func(t *testing.T) { testMultiCluster(t, protocol) })
	}
}

// testMultiCluster's subtests depend on running in order (each rewrites
// the world file).
func testMultiCluster(t *testing.T, protocol string) {
	preferClose := worldParams{ReviewsDistribution: model.TrafficDistributionPreferClose, Cluster1ReviewsReady: true}
	top := startTopology(t, preferClose, protocol)

	t.Run("EnvoysSpeakTheProtocol", func(t *testing.T) {
		want := map[string]string{"delta": "DELTA_GRPC", "sotw": "GRPC"}[protocol]
		for name, e := range top.envoys {
			if got := adsAPIType(t, e); got != want {
				t.Errorf("%s runs ADS as %q, want %q", name, got, want)
			}
		}
	})

	t.Run("PreferCloseStaysInCluster", func(t *testing.T) {
		// The Envoys are ready, but their first endpoints may still be on the way.
		awaitAnswer(t, "/reviews", 20*time.Second, "a direct answer from cluster-1", direct)
		for i := 0; i < 50; i++ {
			r, err := get("/reviews")
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if !direct(r) {
				t.Fatalf("request %d answered by %+v, want cluster-1 with peer %s (the gateway's bind address)", i, r, gatewayAddress)
			}
		}
	})

	t.Run("PreferCloseFailsOverAndBack", func(t *testing.T) {
		gw := top.envoys["gateway-cluster-1"]
		before := envoyStats(t, gw)
		// Two rounds: four endpoint-only changes, each a load assignment
		// response after the first, which state-of-the-world proxies get
		// with the changed assignments only.
		for round := 1; round <= 2; round++ {
			down := preferClose
			down.Cluster1ReviewsReady = false
			writeWorld(t, top.worldPath, down)
			start := time.Now()
			took := awaitStreak(t, "/reviews", start, "every answer from cluster-2 via its east-west gateways", viaEastWest)
			t.Logf("round %d: failover to cluster-2: %v after the world file was written", round, took.Round(time.Millisecond))
			if took > 2*time.Second {
				t.Errorf("round %d: failover took %v, want <= 2s", round, took)
			}

			writeWorld(t, top.worldPath, preferClose)
			start = time.Now()
			took = awaitStreak(t, "/reviews", start, "every answer from cluster-1 again", direct)
			t.Logf("round %d: return to cluster-1: %v after the world file was written", round, took.Round(time.Millisecond))
		}
		// Each change reached the gateway as a load assignment update for
		// reviews alone: ratings, unchanged, was in none of them.
		after := envoyStats(t, gw)
		const reviews, ratings = "cluster.outbound|9080||reviews.mesh.internal.com", "cluster.outbound|9080||ratings.mesh.internal.com"
		if got := after[reviews+".update_success"] - before[reviews+".update_success"]; got < 4 {
			t.Errorf("gateway accepted %d reviews load assignment updates for 4 endpoint changes, want >= 4", got)
		}
		if got := after[ratings+".update_attempt"] - before[ratings+".update_attempt"]; got != 0 {
			t.Errorf("gateway got %d ratings load assignment updates for endpoint changes of reviews only, want 0", got)
		}
	})

	t.Run("ClusterOnlyChangeWarmsAtOnce", func(t *testing.T) {
		// Under PreferClose the policy changes the reviews cluster, not its
		// load assignment (worldParams.ReviewsOutlierDetection); so does
		// removing it again, which also leaves the world as it was.
		withOutliers := preferClose
		withOutliers.ReviewsOutlierDetection = true
		checkClusterOnlyChange(t, top, withOutliers, "OutlierDetectionPolicy added")
		checkClusterOnlyChange(t, top, preferClose, "OutlierDetectionPolicy removed")
	})

	t.Run("UnsetDistributionSpreadsOverClusters", func(t *testing.T) {
		writeWorld(t, top.worldPath, worldParams{Cluster1ReviewsReady: true})
		// With PreferClose and cluster-1 ready, cluster-2 never answers: the
		// first cluster-2 answer shows the new world arrived.
		awaitAnswer(t, "/reviews", 10*time.Second, "an answer from cluster-2", viaEastWest)
		instances, peers := map[string]int{}, map[string]int{}
		for i := 0; i < 100; i++ {
			r, err := get("/reviews")
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if !direct(r) && !viaEastWest(r) {
				t.Fatalf("request %d answered by %+v: neither cluster-1 via the gateway nor cluster-2 via 127.0.12.100/.101", i, r)
			}
			instances[r.Instance]++
			peers[peerHost(r)]++
		}
		t.Logf("100 requests: instances %v, peers %v", instances, peers)
		for _, b := range backends {
			if strings.HasPrefix(b.Service, "reviews") && instances[b.Instance] == 0 {
				t.Errorf("instance %s (%s) never answered in 100 requests", b.Instance, b.Cluster)
			}
		}
		for _, ew := range []string{"127.0.12.100", "127.0.12.101"} {
			if peers[ew] == 0 {
				t.Errorf("no request went through east-west gateway %s", ew)
			}
		}
	})

	t.Run("RemoteOnlyDestinationBalancedOverInstances", func(t *testing.T) {
		awaitAnswer(t, "/ratings", 10*time.Second, "an answer from ratings", viaEastWest)
		seen := map[string]int{}
		const n = 20
		for i := 0; i < n; i++ {
			r, err := get("/ratings")
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if !viaEastWest(r) || !strings.HasPrefix(r.Instance, "ratings-") {
				t.Fatalf("request %d answered by %+v, want ratings in cluster-2 via an east-west gateway", i, r)
			}
			seen[r.Instance]++
		}
		t.Logf("%d ratings requests: %v", n, seen)
		if seen["ratings-a"] == 0 || seen["ratings-b"] == 0 {
			t.Errorf("ratings instances answering in %d requests: %v, want both", n, seen)
		}
	})

	t.Run("EastWestRequiresCausewayCertificate", func(t *testing.T) {
		const addr = "127.0.12.100:15443"
		sni := translator.SNI("reviews.mesh.internal.com", 9080, "")
		authority, err := ca.LoadOrCreate(top.caDir, "causeway.local")
		if err != nil {
			t.Fatalf("load the CA causeway serve created in %s: %v", top.caDir, err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(authority.RootPEM()) {
			t.Fatal("root PEM has no certificate")
		}
		id := authority.SpiffeID("gateway", "cluster-1")

		// Positive control first: without it the refusals below prove nothing.
		certPEM, keyPEM, _, err := authority.Issue(id, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		good, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		resp, body, err := eastWestGET(addr, sni, &good, roots)
		if err != nil {
			t.Fatalf("client with a Causeway certificate: %v", err)
		}
		r, err := decodeBackend(body)
		if resp.StatusCode != 200 || err != nil || r.Cluster != "cluster-2" || !strings.HasPrefix(r.Instance, "reviews-v2") {
			t.Fatalf("client with a Causeway certificate: %s %q (%v), want 200 from reviews in cluster-2", resp.Status, body, err)
		}

		foreign, err := foreignClientCert(id)
		if err != nil {
			t.Fatal(err)
		}
		ew := top.envoys["eastwest-cluster-2-a"]
		for _, tc := range []struct {
			name string
			cert *tls.Certificate
			// stat is the suffix of the Envoy TLS counter naming the reason,
			// so a refusal for another reason does not pass.
			stat string
		}{
			{"no client certificate", nil, ".ssl.fail_verify_no_cert"},
			{"certificate from another CA", &foreign, ".ssl.fail_verify_error"},
		} {
			before := sumStats(t, ew, tc.stat)
			resp, body, err := eastWestGET(addr, sni, tc.cert, nil)
			if err == nil {
				t.Errorf("%s: got %s %q, want the connection refused", tc.name, resp.Status, body)
				continue
			}
			t.Logf("%s: refused: %v", tc.name, err)
			if err := e2eutil.Eventually(2*time.Second, 50*time.Millisecond, func() error {
				if after := sumStats(t, ew, tc.stat); after <= before {
					return fmt.Errorf("*%s stayed at %d", tc.stat, after)
				}
				return nil
			}); err != nil {
				t.Errorf("%s: refused, but not for that reason: %v", tc.name, err)
			}
		}
	})

	t.Run("NoEnvoyRejectedAnUpdate", func(t *testing.T) {
		e2eutil.CheckNoRejectedUpdates(t, top.envoys)
	})
}

// awaitAnswer polls path until an answer satisfies ok.
func awaitAnswer(t *testing.T, path string, timeout time.Duration, what string, ok func(backend.Response) bool) {
	t.Helper()
	err := e2eutil.Eventually(timeout, 50*time.Millisecond, func() error {
		r, err := get(path)
		if err != nil {
			return err
		}
		if !ok(r) {
			return fmt.Errorf("answered by %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("no %s for %s within %v; last: %v", what, path, timeout, err)
	}
}

// awaitStreak polls path every 10 ms until 20 answers in a row satisfy ok
// and returns the time from start to the arrival of the streak's first answer.
func awaitStreak(t *testing.T, path string, start time.Time, what string, ok func(backend.Response) bool) time.Duration {
	t.Helper()
	const streak, timeout, interval = 20, 10 * time.Second, 10 * time.Millisecond
	var first time.Time
	run := 0
	var last string
	for i := 0; i < int(timeout/interval) && time.Since(start) < timeout; i++ {
		r, err := get(path)
		// Conservative: the answer's arrival, not the request's departure.
		answered := time.Now()
		switch {
		case err != nil:
			run, last = 0, err.Error()
		case !ok(r):
			run, last = 0, fmt.Sprintf("answered by %+v", r)
		default:
			if run == 0 {
				first = answered
			}
			run++
			if run == streak {
				return first.Sub(start)
			}
		}
		time.Sleep(interval)
	}
	t.Fatalf("no %s within %v (%d in a row needed); last: %s", what, timeout, streak, last)
	return 0
}

// adsAPIType is the ADS api_type e runs with, from its config dump.
func adsAPIType(t *testing.T, e *envoyrun.Envoy) string {
	t.Helper()
	var dump struct {
		Configs []struct {
			Bootstrap struct {
				DynamicResources struct {
					AdsConfig struct {
						APIType string `json:"api_type"`
					} `json:"ads_config"`
				} `json:"dynamic_resources"`
			} `json:"bootstrap"`
		} `json:"configs"`
	}
	adminJSON(t, e, "/config_dump", &dump)
	for _, c := range dump.Configs {
		if got := c.Bootstrap.DynamicResources.AdsConfig.APIType; got != "" {
			return got
		}
	}
	t.Fatal("config dump has no bootstrap ads_config api_type")
	return ""
}

// adminJSON decodes the JSON e's admin serves at path into v; it fails t
// when that cannot be done within 5 s.
func adminJSON(t *testing.T, e *envoyrun.Envoy, path string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := e.Admin(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// envoyStats returns e's counters and gauges by name.
func envoyStats(t *testing.T, e *envoyrun.Envoy) map[string]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := e.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

// sumStats adds up e's counters whose names end in suffix.
func sumStats(t *testing.T, e *envoyrun.Envoy, suffix string) uint64 {
	t.Helper()
	var sum uint64
	for name, v := range envoyStats(t, e) {
		if strings.HasSuffix(name, suffix) {
			sum += v
		}
	}
	return sum
}
