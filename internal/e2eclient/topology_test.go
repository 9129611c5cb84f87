package e2eclient

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
	"github.com/causeway-dev/causeway/internal/testenv/netns"
)

var proxies = []e2eutil.ProxySpec{
	{Name: "client-cluster-1", Role: "client", Cluster: "cluster-1", Region: "us-east", Zone: "us-east-1a", BindAddress: clientAddress},
	{Name: "eastwest-cluster-2", Role: "eastwest", Cluster: "cluster-2", Region: "us-west", Zone: "us-west-1a", BindAddress: eastWest2},
}

// topology is the running mesh, owned by the top-level test.
type topology struct {
	dir       string
	worldPath string
	caDir     string
	serve     *e2eutil.Process
	envoys    map[string]*envoyrun.Envoy
	backends  map[string]*backend.Server // by instance
	// pod opens connections from inside cluster-1's application namespace.
	pod podNet
	// world is the content last written.
	world worldParams
}

// startTopology creates the pod's namespace (its veth's host end is the
// client proxy's address, so it must exist before the proxy binds), writes
// the world, starts `causeway serve` with mTLS xDS, the backends and the
// Envoys, each with a certificate `causeway certs issue` made for its role,
// and waits until every Envoy is ready. t's cleanups stop everything by
// PID, Envoys before the namespace.
func startTopology(t *testing.T) *topology {
	t.Helper()
	envoyBin := e2eutil.RequireEnvoy(t)
	ns := netns.Create(t, "client", hostEnd, podAddr)
	top := &topology{dir: t.TempDir(), envoys: map[string]*envoyrun.Envoy{}, backends: map[string]*backend.Server{},
		pod: podNet{nsName: ns.Name, subnet: podSubnet}, world: worldParams{Cluster1Ready: true}}
	// The world gets a directory of its own: serve watches the directory,
	// and Envoy logs churn in top.dir.
	top.worldPath = filepath.Join(top.dir, "world", "world.yaml")
	if err := os.Mkdir(filepath.Dir(top.worldPath), 0o755); err != nil {
		t.Fatal(err)
	}
	top.caDir = filepath.Join(top.dir, "ca")
	top.writeWorld(t, top.world)

	xdsAddr := "127.0.0.1:" + e2eutil.FreePort(t)
	metricsAddr := "127.0.0.1:" + e2eutil.FreePort(t)
	top.serve = e2eutil.Start(t, "causeway serve", filepath.Join(top.dir, "causeway.log"), causewayBin,
		"serve", "--world", top.worldPath, "--xds-address", xdsAddr, "--metrics-address", metricsAddr, "--ca-dir", top.caDir)
	// Registered after serve's, so it runs first: diagnostics while the
	// Envoys still run, then the Envoys (the namespace goes last).
	t.Cleanup(func() {
		top.dump(t)
		for _, e := range top.envoys {
			if err := e.Stop(); err != nil {
				t.Error(err)
			}
		}
	})
	if err := e2eutil.Eventually(20*time.Second, 100*time.Millisecond, func() error {
		if top.serve.Exited() {
			return fmt.Errorf("causeway serve exited")
		}
		return e2eutil.HTTPOK("http://" + metricsAddr + "/healthz")
	}); err != nil {
		t.Fatalf("causeway serve not healthy: %v\n%s", err, top.serve.LogTail(30))
	}

	for _, b := range appBackends {
		s, err := backend.Start(b.Address, backend.Info{Cluster: b.Cluster, Instance: b.Instance, Version: "v1"})
		if err != nil {
			t.Fatalf("backend %s: %v", b.Instance, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		top.backends[b.Instance] = s
	}
	startGreeter(t, greeterAddress)

	bootstraps := make([][]byte, len(proxies))
	for i, p := range proxies {
		extra := e2eutil.IssueProxyCert(t, causewayBin, top.caDir, p.Role, p.Cluster, filepath.Join(top.dir, "xds-certs", p.Name))
		if p.Role == "client" {
			extra = append(extra, "--namespace", clientNamespace)
		}
		bootstraps[i] = e2eutil.ProxyBootstrap(t, causewayBin, p, []string{xdsAddr}, extra...)
	}
	envoys, err := e2eutil.StartEnvoys(t, envoyBin, top.dir, proxies, bootstraps, 60*time.Second)
	top.envoys = envoys
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// writeWorld renders p and renames it over the world file, so serve never
// reads half a world.
func (top *topology) writeWorld(t *testing.T, p worldParams) {
	t.Helper()
	tmp := top.worldPath + ".tmp"
	if err := os.WriteFile(tmp, renderWorld(p), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, top.worldPath); err != nil {
		t.Fatal(err)
	}
	top.world = p
}

// startGreeter serves grpc.health.v1 (status SERVING) over cleartext
// HTTP/2 on addr until t ends: a backend that speaks nothing but gRPC.
func startGreeter(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("greeter: %v", err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-done; err != nil {
			t.Errorf("greeter: %v", err)
		}
	})
}

// httpClient calls from inside the pod's namespace, speaking HTTP/1.1 or,
// with h2c, HTTP/2 with prior knowledge.
func (top *topology) httpClient(h2c bool) *http.Client {
	p := new(http.Protocols)
	if h2c {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP1(true)
	}
	return &http.Client{Timeout: loadTimeout, Transport: &http.Transport{
		DialContext: top.pod.DialContext, Protocols: p, MaxIdleConnsPerHost: 8,
	}}
}

// call resolves host through the client proxy's DNS (from the pod) and
// sends GET path to the address it got, port port, with Host host.
func (top *topology) call(ctx context.Context, c *http.Client, host string, port int, path string) (backend.Response, *http.Response, error) {
	addr, err := top.pod.resolve(ctx, clientDNS, host)
	if err != nil {
		return backend.Response{}, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s%s", net.JoinHostPort(addr.String(), fmt.Sprint(port)), path), nil)
	if err != nil {
		return backend.Response{}, nil, err
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return backend.Response{}, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return backend.Response{}, resp, err
	}
	r, err := e2eutil.BackendAnswer(resp.StatusCode, body)
	return r, resp, err
}

// dump logs serve's log tail and the Envoys' when t failed, and keeps
// logs and config dumps with CAUSEWAY_E2E_ARTIFACTS.
func (top *topology) dump(t *testing.T) {
	if t.Failed() {
		t.Logf("--- causeway serve log tail:\n%s", e2eutil.Indent(top.serve.LogTail(40)))
	}
	e2eutil.DumpEnvoys(t, top.envoys)
	e2eutil.CopyToArtifacts(t, top.serve.LogPath, "causeway.log")
	e2eutil.CopyToArtifacts(t, top.worldPath, "world.yaml")
	if t.Failed() && e2eutil.ArtifactsDir(t) == "" {
		t.Log("set CAUSEWAY_E2E_ARTIFACTS=<dir> to keep logs and Envoy config dumps")
	}
}

// peerHost is the host of a backend's reported peer (host:port).
func peerHost(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		return hostport[:i]
	}
	return hostport
}
