package chaos

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

var proxies = []e2eutil.ProxySpec{
	{Name: "gateway-c1", Role: "gateway", Cluster: "cluster-1", Region: "us-east", Zone: "us-east-1a", BindAddress: gatewayAddress, Gateway: "chaos/ingress"},
	{Name: "eastwest-c1", Role: "eastwest", Cluster: "cluster-1", Region: "us-east", Zone: "us-east-1a", BindAddress: "127.0.61.100"},
	{Name: "eastwest-c2", Role: "eastwest", Cluster: "cluster-2", Region: "us-east", Zone: "us-east-1b", BindAddress: "127.0.62.100"},
	{Name: "eastwest-c3", Role: "eastwest", Cluster: "cluster-3", Region: "us-west", Zone: "us-west-1a", BindAddress: "127.0.63.100"},
}

// replica is one `causeway serve` process, restartable with the same flags.
type replica struct {
	name, xds, metrics string
	args               []string
	proc               *e2eutil.Process
	starts             int
}

// topology is the running mesh: serve replicas, backends and Envoys, all
// owned by the top-level test t (subtests may restart a replica; it still
// stops with t).
type topology struct {
	t         *testing.T
	dir       string
	worldPath string // what serve's --world names
	caDir     string
	replicas  []*replica
	envoys    map[string]*envoyrun.Envoy
	backends  map[string]*backend.Server
	// world is the content last written.
	world worldParams
}

// startTopology writes the world (generation 1, everything ready), starts
// n serve replicas on 127.0.60.1.., the backends and the Envoys (bootstrapped
// with every replica's address), and waits until cluster-1 answers.
func startTopology(t *testing.T, n int) *topology {
	t.Helper()
	envoyBin := e2eutil.RequireEnvoy(t)
	e2eutil.LockT(t, 10*time.Minute)
	top := &topology{t: t, dir: t.TempDir(), backends: map[string]*backend.Server{}, world: allReady(1)}
	top.worldPath = filepath.Join(top.dir, "world", "world.yaml")
	top.caDir = filepath.Join(top.dir, "ca")
	if err := os.Mkdir(filepath.Dir(top.worldPath), 0o755); err != nil {
		t.Fatal(err)
	}
	writeRename(t, top.worldPath, renderWorld(top.world))

	var xdsAddrs []string
	for i := 0; i < n; i++ {
		r := &replica{
			name:    fmt.Sprintf("serve-%d", i+1),
			xds:     fmt.Sprintf("127.0.60.%d:18000", i+1),
			metrics: fmt.Sprintf("127.0.60.%d:9091", i+1),
		}
		r.args = []string{"serve", "--world", top.worldPath, "--xds-address", r.xds,
			"--metrics-address", r.metrics, "--ca-dir", top.caDir}
		top.replicas = append(top.replicas, r)
		xdsAddrs = append(xdsAddrs, r.xds)
		// One at a time: the first creates the CA the others load.
		top.startReplica(t, r)
	}
	// Registered after serve's: runs first, while everything still runs.
	t.Cleanup(func() {
		top.dump(t)
		for _, e := range top.envoys {
			if err := e.Stop(); err != nil {
				t.Error(err)
			}
		}
	})

	for _, b := range backends {
		s, err := backend.Start(b.Address, backend.Info{Cluster: b.Cluster, Instance: b.Instance, Version: "v1"})
		if err != nil {
			t.Fatalf("backend %s: %v", b.Instance, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		top.backends[b.Instance] = s
	}

	bootstraps := make([][]byte, len(proxies))
	for i, p := range proxies {
		creds := e2eutil.IssueProxyCert(t, causewayBin, top.caDir, p.Role, p.Cluster, filepath.Join(top.dir, "xds-certs", p.Name))
		bootstraps[i] = e2eutil.ProxyBootstrap(t, causewayBin, p, xdsAddrs, creds...)
	}
	for i, b := range bootstraps {
		for _, a := range xdsAddrs {
			if host, port, _ := strings.Cut(a, ":"); !strings.Contains(string(b), host) || !strings.Contains(string(b), port) {
				t.Errorf("causeway bootstrap for %s with --xds-address %s: %s is not in the bootstrap (%s holds it)",
					proxies[i].Name, strings.Join(xdsAddrs, " --xds-address "), a, filepath.Join(top.dir, proxies[i].Name+".yaml"))
			}
		}
	}
	envoys, err := e2eutil.StartEnvoys(t, envoyBin, top.dir, proxies, bootstraps, 60*time.Second)
	top.envoys = envoys
	if err != nil {
		t.Fatal(err)
	}
	if _, err := top.awaitGen(1, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	top.awaitCluster(t, "cluster-1", 30*time.Second)
	return top
}

// startReplica (re)starts r with its flags and waits for /healthz. Its
// process stops with top.t even when a subtest started it.
func (top *topology) startReplica(t *testing.T, r *replica) {
	t.Helper()
	r.starts++
	logPath := filepath.Join(top.dir, fmt.Sprintf("%s.%d.log", r.name, r.starts))
	r.proc = e2eutil.Start(cleanupOn{t, top.t}, r.name, logPath, causewayBin, r.args...)
	if err := e2eutil.Eventually(30*time.Second, 50*time.Millisecond, func() error {
		if r.proc.Exited() {
			return fmt.Errorf("%s exited", r.name)
		}
		return e2eutil.HTTPOK("http://" + r.metrics + "/healthz")
	}); err != nil {
		t.Fatalf("%s not healthy: %v\n%s", r.name, err, r.proc.LogTail(30))
	}
}

// cleanupOn is t with its cleanups (and their errors) on owner, for
// processes a subtest starts that must outlive it.
type cleanupOn struct {
	testing.TB
	owner testing.TB
}

func (c cleanupOn) Cleanup(f func())  { c.owner.Cleanup(f) }
func (c cleanupOn) Error(args ...any) { c.owner.Error(args...) }

// connectedProxies sums serve's causeway_xds_connected_proxies gauge.
func (r *replica) connectedProxies() (int, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.metrics + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "causeway_xds_connected_proxies") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("metrics line %q: %v", line, err)
		}
		sum += v
	}
	return int(sum), nil
}

// connectedStates reads every Envoy's control_plane.connected_state.
func (top *topology) connectedStates() (map[string]uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out := map[string]uint64{}
	for name, e := range top.envoys {
		stats, err := e.Stats(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		v, ok := stats["control_plane.connected_state"]
		if !ok {
			return nil, fmt.Errorf("%s: no control_plane.connected_state among %d stats", name, len(stats))
		}
		out[name] = v
	}
	return out, nil
}

// awaitConnectedState waits at most timeout until every Envoy's
// control_plane.connected_state is want, and returns how long after since
// that was first seen.
func (top *topology) awaitConnectedState(want uint64, since time.Time, timeout time.Duration) (time.Duration, error) {
	err := e2eutil.Eventually(timeout, 25*time.Millisecond, func() error {
		states, err := top.connectedStates()
		if err != nil {
			return err
		}
		for name, v := range states {
			if v != want {
				return fmt.Errorf("%s: control_plane.connected_state %d, want %d (all: %v)", name, v, want, states)
			}
		}
		return nil
	})
	return time.Since(since), err
}

var probeClient = &http.Client{Timeout: 3 * time.Second}

// probe sends one request for path through the gateway.
func probe(path string) (backend.Response, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s:%d%s", gatewayAddress, gatewayPort, path), nil)
	if err != nil {
		return backend.Response{}, err
	}
	req.Host = host
	return e2eutil.GetBackend(probeClient, req)
}

// awaitGen waits at most timeout until the gateway routes generation gen's
// marker path, and returns how long that took.
func (top *topology) awaitGen(gen int, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	err := e2eutil.Eventually(timeout, 20*time.Millisecond, func() error {
		_, err := probe(markerPath(gen))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("world generation %d not routed by the gateway within %v: %v", gen, timeout, err)
	}
	return time.Since(start), nil
}

// awaitCluster waits until ten probes in a row are answered by cluster.
func (top *topology) awaitCluster(t *testing.T, cluster string, timeout time.Duration) {
	t.Helper()
	streak := 0
	err := e2eutil.Eventually(timeout, 20*time.Millisecond, func() error {
		r, err := probe(loadPath)
		if err == nil && r.Cluster == cluster {
			if streak++; streak >= 10 {
				return nil
			}
			return fmt.Errorf("streak %d", streak)
		}
		streak = 0
		return fmt.Errorf("answer %+v, error %v", r, err)
	})
	if err != nil {
		t.Fatalf("no 10 answers in a row from %s within %v: %v", cluster, timeout, err)
	}
}

// expectedPeer is who connects to a cluster's backends for the cluster-1
// gateway: the gateway itself, or that cluster's east-west gateway.
var expectedPeer = map[string]string{
	"cluster-1": gatewayAddress,
	"cluster-2": "127.0.62.100",
	"cluster-3": "127.0.63.100",
}

// classify names a load answer by the cluster that answered; anything but
// a backend's 200 through the expected hop is a failure.
func classify(status int, body []byte) (string, error) {
	r, err := e2eutil.BackendAnswer(status, body)
	if err != nil {
		return "", err
	}
	if peer := peerHost(r.Peer); peer != expectedPeer[r.Cluster] {
		return "", fmt.Errorf("%s answered through %s, want %s", r.Instance, peer, expectedPeer[r.Cluster])
	}
	return r.Cluster, nil
}

func peerHost(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		return hostport[:i]
	}
	return hostport
}

// dump logs the tails of serve's and the Envoys' logs when t failed, and
// keeps them (and config dumps) with CAUSEWAY_E2E_ARTIFACTS.
func (top *topology) dump(t *testing.T) {
	for _, r := range top.replicas {
		if r.proc == nil {
			continue
		}
		if t.Failed() {
			t.Logf("--- %s (start %d) log tail:\n%s", r.name, r.starts, e2eutil.Indent(r.proc.LogTail(40)))
		}
		for i := 1; i <= r.starts; i++ {
			name := fmt.Sprintf("%s.%d.log", r.name, i)
			e2eutil.CopyToArtifacts(t, filepath.Join(top.dir, name), name)
		}
	}
	e2eutil.DumpEnvoys(t, top.envoys)
	e2eutil.CopyToArtifacts(t, top.worldPath, "world.yaml")
	if t.Failed() && e2eutil.ArtifactsDir(t) == "" {
		t.Log("set CAUSEWAY_E2E_ARTIFACTS=<dir> to keep logs and Envoy config dumps")
	}
}
