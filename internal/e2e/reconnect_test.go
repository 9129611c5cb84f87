package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// Reconnect tests: how fast a real Envoy is back on xDS after `causeway
// serve` returns, and after the replica it uses dies. They have loopback
// range 127.0.41.x to themselves: replicas 127.0.41.1 and .2 (xDS :18000,
// metrics :9091), the gateway Envoy 127.0.41.10 (admin :19000).

// reconnectWithin is a generous bound; the bootstrap's backoff (at most
// 1 s between attempts) makes it about a second. Envoy's default backoff
// (up to 30 s) took 6-21 s after a 10 s outage.
const reconnectWithin = 3 * time.Second

const reconnectGateway = "127.0.41.10"

// replica is one `causeway serve` of a reconnect test.
type replica struct {
	name, xds, metrics string
	proc               *e2eutil.Process
}

// reconnectSetup is the world file, CA and log directory the replicas share.
type reconnectSetup struct {
	dir, worldPath, caDir string
	starts                int
}

func newReconnectSetup(t *testing.T) *reconnectSetup {
	s := &reconnectSetup{dir: t.TempDir()}
	s.worldPath = filepath.Join(s.dir, "world", "world.yaml")
	if err := os.Mkdir(filepath.Dir(s.worldPath), 0o755); err != nil {
		t.Fatal(err)
	}
	s.caDir = filepath.Join(s.dir, "ca")
	writeWorld(t, s.worldPath, worldParams{ReviewsDistribution: "PreferClose", Cluster1ReviewsReady: true})
	return s
}

// start starts (or restarts) r with caDir, waiting until it answers
// /healthz (its xDS listener is open by then); it returns that moment.
func (s *reconnectSetup) start(t *testing.T, r *replica, caDir string, extra ...string) time.Time {
	t.Helper()
	s.starts++
	log := filepath.Join(s.dir, fmt.Sprintf("%s-%d.log", r.name, s.starts))
	r.proc = e2eutil.Start(t, r.name, log, causewayBin, append([]string{"serve", "--world", s.worldPath,
		"--xds-address", r.xds, "--metrics-address", r.metrics, "--ca-dir", caDir}, extra...)...)
	if err := e2eutil.Eventually(15*time.Second, 10*time.Millisecond, func() error {
		if r.proc.Exited() {
			return fmt.Errorf("%s exited", r.name)
		}
		return e2eutil.HTTPOK("http://" + r.metrics + "/healthz")
	}); err != nil {
		t.Fatalf("%s not healthy: %v\n%s", r.name, err, r.proc.LogTail(30))
	}
	return time.Now()
}

// startGateway starts the gateway Envoy bootstrapped with every replica's
// address, and waits until it is ready.
func (s *reconnectSetup) startGateway(t *testing.T, replicas ...*replica) *envoyrun.Envoy {
	t.Helper()
	p := e2eutil.ProxySpec{Name: "gateway-reconnect", Role: "gateway", Cluster: "cluster-1", Region: "us-east", Zone: "us-east-1a", BindAddress: reconnectGateway,
		Gateway: "bookinfo/bookinfo-gateway"}
	var addrs []string
	for _, r := range replicas {
		addrs = append(addrs, r.xds)
	}
	creds := e2eutil.IssueProxyCert(t, causewayBin, s.caDir, p.Role, p.Cluster, filepath.Join(s.dir, "xds-certs"))
	e, err := envoyrun.Start(envoyrun.Options{
		Binary:       e2eutil.RequireEnvoy(t),
		Bootstrap:    e2eutil.ProxyBootstrap(t, causewayBin, p, addrs, creds...),
		AdminAddress: p.AdminAddress(),
		Dir:          s.dir,
		Name:         p.Name,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- gateway log tail:\n%s", e.LogTail(30))
			for _, r := range replicas {
				t.Logf("--- %s log tail:\n%s", r.name, r.proc.LogTail(20))
			}
		}
		if err := e.Stop(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// connectedState is Envoy's control_plane.connected_state (1: the ADS
// stream is up), or -1 when the admin does not answer.
func connectedState(e *envoyrun.Envoy) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	stats, err := e.Stats(ctx)
	if err != nil {
		return -1
	}
	v, ok := stats["control_plane.connected_state"]
	if !ok {
		return -1
	}
	return int(v)
}

// awaitConnected polls every 10 ms until the gateway's ADS stream is up
// (and, when on is set, to that replica), for at most timeout; it returns
// when it was first seen up, or fails t.
func awaitConnected(t *testing.T, e *envoyrun.Envoy, on *replica, timeout time.Duration, what string) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if connectedState(e) == 1 && (on == nil || xdsConnections(t, e)[on.xds] > 0) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the gateway's ADS stream not connected within %v (connected_state %d, xds connections %v)",
				what, timeout, connectedState(e), xdsConnections(t, e))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// xdsConnections are the gateway's active connections per xDS server
// address, from its admin /clusters.
func xdsConnections(t *testing.T, e *envoyrun.Envoy) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	body, err := e.Admin(ctx, "/clusters")
	if err != nil {
		t.Fatalf("/clusters: %v", err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(body), "\n") {
		// causeway_xds::127.0.41.1:18000::cx_active::1
		f := strings.Split(line, "::")
		if len(f) == 4 && f[0] == "causeway_xds" && f[2] == "cx_active" {
			var n int
			fmt.Sscan(f[3], &n)
			out[f[1]] = n
		}
	}
	return out
}

// awaitWorldChange turns on outlier detection for reviews in the world
// file and waits until the gateway's live reviews cluster has it; it
// returns how long that took.
func (s *reconnectSetup) awaitWorldChange(t *testing.T, e *envoyrun.Envoy, what string) time.Duration {
	t.Helper()
	writeWorld(t, s.worldPath, worldParams{ReviewsDistribution: "PreferClose", Cluster1ReviewsReady: true, ReviewsOutlierDetection: true})
	start := time.Now()
	if err := e2eutil.Eventually(10*time.Second, 20*time.Millisecond, func() error {
		if !activeClusterHasOutlierDetection(t, e, reviewsCluster) {
			return fmt.Errorf("the gateway's %s has no outlier detection yet", reviewsCluster)
		}
		return nil
	}); err != nil {
		t.Fatalf("%s: a world change after the reconnect did not reach the gateway: %v", what, err)
	}
	return time.Since(start)
}

// TestReconnectAfterOutage stops serve for 10 s and starts it again: the
// gateway must keep trying at least once a second or so meanwhile, its ADS
// stream must be back within reconnectWithin of serve listening, and a
// world change made then must reach it. Then serve
// restarts with an empty --ca-dir (a new root: the operator's mistake the
// issue describes): it says so loudly and counts the gateway's refused
// handshakes.
func TestReconnectAfterOutage(t *testing.T) {
	s := newReconnectSetup(t)
	r := &replica{name: "causeway-a", xds: "127.0.41.1:18000", metrics: "127.0.41.1:9091"}
	s.start(t, r, s.caDir)
	gw := s.startGateway(t, r)
	awaitConnected(t, gw, r, 10*time.Second, "first start")

	if err := r.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := e2eutil.Eventually(5*time.Second, 20*time.Millisecond, func() error {
		if st := connectedState(gw); st != 0 {
			return fmt.Errorf("connected_state %d", st)
		}
		return nil
	}); err != nil {
		t.Fatalf("serve stopped but the gateway still reports a connected ADS stream: %v", err)
	}
	const outage = 10 * time.Second
	attempts, longest := watchAttempts(t, gw, outage)
	t.Logf("during the %v outage: %d connection attempts, longest gap %v", outage, attempts, longest.Round(time.Millisecond))
	// The backoff caps the gap at 1 s; the slack is for polling and load.
	// Envoy's default (up to 30 s) leaves gaps of several seconds here.
	if longest > 2500*time.Millisecond {
		t.Errorf("longest gap between reconnect attempts %v, want at most about 1 s (the bootstrap's backoff)", longest.Round(time.Millisecond))
	}
	listening := s.start(t, r, s.caDir)
	connected := awaitConnected(t, gw, r, 30*time.Second, "after the restart")
	took := connected.Sub(listening)
	t.Logf("after a %v outage: ADS stream back %v after serve listened again", outage, took.Round(time.Millisecond))
	if took > reconnectWithin {
		t.Errorf("ADS stream back %v after serve returned, want within %v (the bootstrap's reconnect backoff)", took.Round(time.Millisecond), reconnectWithin)
	}
	t.Logf("world change after the restart reached the gateway in %v", s.awaitWorldChange(t, gw, "after the restart").Round(time.Millisecond))

	// The wrong --ca-dir: a new root, which the gateway does not trust.
	if err := r.proc.Stop(); err != nil {
		t.Fatal(err)
	}
	s.start(t, r, filepath.Join(s.dir, "other-ca"))
	if err := e2eutil.Eventually(10*time.Second, 50*time.Millisecond, func() error {
		if v := metricValue(t, r.metrics, `causeway_xds_tls_handshake_failures_total{reason="unknown_authority"}`); v < 1 {
			return fmt.Errorf("handshake failures{unknown_authority} = %v", v)
		}
		return nil
	}); err != nil {
		t.Errorf("serve with a new root: the gateway's refused handshakes are not counted: %v", err)
	}
	log, _ := os.ReadFile(r.proc.LogPath)
	for _, want := range []string{"level=WARN msg=\"created a NEW CA root", "xDS TLS handshake failed", "reason=unknown_authority", "peer=127.0.0.1:"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("serve's log with a new root lacks %q:\n%s", want, log)
		}
	}
	if st := connectedState(gw); st != 0 {
		t.Errorf("the gateway connected to a serve with another root (connected_state %d)", st)
	}
}

// watchAttempts polls the gateway's xds cluster for d and returns how many
// connections it attempted and the longest time without an attempt.
func watchAttempts(t *testing.T, e *envoyrun.Envoy, d time.Duration) (int, time.Duration) {
	t.Helper()
	const counter = "cluster.causeway_xds.upstream_cx_total"
	start := time.Now()
	last, lastAt := envoyStats(t, e)[counter], start
	attempts, longest := 0, time.Duration(0)
	for time.Since(start) < d {
		time.Sleep(20 * time.Millisecond)
		now := envoyStats(t, e)[counter]
		if now != last {
			attempts += int(now - last)
			longest = max(longest, time.Since(lastAt))
			last, lastAt = now, time.Now()
		}
	}
	return attempts, max(longest, time.Since(lastAt))
}

// TestReconnectReplicaLoss runs two replicas on one world file and CA; the
// gateway, bootstrapped with both, loses the one it uses to kill -9 and
// must reconnect to the other and receive a later world change.
func TestReconnectReplicaLoss(t *testing.T) {
	s := newReconnectSetup(t)
	a := &replica{name: "causeway-a", xds: "127.0.41.1:18000", metrics: "127.0.41.1:9091"}
	b := &replica{name: "causeway-b", xds: "127.0.41.2:18000", metrics: "127.0.41.2:9091"}
	s.start(t, a, s.caDir)
	s.start(t, b, s.caDir)
	gw := s.startGateway(t, a, b)
	awaitConnected(t, gw, nil, 10*time.Second, "first start")
	used, other := a, b
	if xdsConnections(t, gw)[b.xds] > 0 {
		used, other = b, a
	}
	if err := syscall.Kill(used.proc.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	connected := awaitConnected(t, gw, other, 30*time.Second, "after "+used.name+" was killed")
	took := connected.Sub(killed)
	t.Logf("kill -9 of %s: ADS stream on %s %v later", used.name, other.name, took.Round(time.Millisecond))
	if took > reconnectWithin {
		t.Errorf("ADS stream on the other replica %v after the kill, want within %v", took.Round(time.Millisecond), reconnectWithin)
	}
	t.Logf("world change after the replica loss reached the gateway in %v", s.awaitWorldChange(t, gw, "after the replica loss").Round(time.Millisecond))
}

// metricValue is the value of the sample named series (name{labels} as
// /metrics prints it) on serve's metrics address, 0 when absent.
func metricValue(t *testing.T, metricsAddr, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}
