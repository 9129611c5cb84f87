package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// proxySpec is one Envoy of the test topology.
type proxySpec struct {
	Name, Role, Cluster, Region, Zone, BindAddress string
}

func (p proxySpec) adminAddress() string { return p.BindAddress + ":19000" }

const (
	gatewayAddress = "127.0.11.1"
	gatewayPort    = 8080 // from the Gateway listener in the world file
	bookinfoHost   = "bookinfo.example.com"
)

var proxies = []proxySpec{
	{"gateway-cluster-1", "gateway", "cluster-1", "us-east", "us-east-1a", gatewayAddress},
	{"eastwest-cluster-1", "eastwest", "cluster-1", "us-east", "us-east-1a", "127.0.11.100"},
	{"eastwest-cluster-2-a", "eastwest", "cluster-2", "us-west", "us-west-1a", "127.0.12.100"},
	{"eastwest-cluster-2-b", "eastwest", "cluster-2", "us-west", "us-west-1a", "127.0.12.101"},
}

// topology is one running control plane with its Envoys and backends.
type topology struct {
	dir       string
	worldPath string
	caDir     string
	causeway  *e2eutil.Process
	envoys    map[string]*envoyrun.Envoy // by proxySpec.Name
	backends  map[string]*backend.Server // by backendSpec.Instance
}

// meshSpec is what startMesh runs: the world file's first contents, its
// backends and its Envoys.
type meshSpec struct {
	world    []byte
	backends []backendSpec
	proxies  []proxySpec
	// protocol is the Envoys' ADS variant, a `causeway bootstrap
	// --xds-protocol` value; empty means the bootstrap's default.
	protocol string
	// serveArgs are extra `causeway serve` flags.
	serveArgs []string
}

// startTopology starts TestMultiCluster's mesh (proxies, backends) in
// world, its Envoys speaking ADS protocol.
func startTopology(t *testing.T, world worldParams, protocol string) *topology {
	t.Helper()
	return startMesh(t, meshSpec{world: renderWorld(world), backends: backends, proxies: proxies, protocol: protocol})
}

// startMesh writes the world, starts `causeway serve`, the backends and
// every Envoy, and waits until all Envoys are ready. Everything is stopped
// by t's cleanups, which also dump logs when t failed.
func startMesh(t *testing.T, m meshSpec) *topology {
	t.Helper()
	envoyBin := e2eutil.RequireEnvoy(t)
	top := &topology{dir: t.TempDir(), envoys: map[string]*envoyrun.Envoy{}, backends: map[string]*backend.Server{}}
	// The world file gets a directory of its own, as a user's config would:
	// the control plane watches the directory, and Envoy logs churn in top.dir.
	top.worldPath = filepath.Join(top.dir, "world", "world.yaml")
	if err := os.Mkdir(filepath.Dir(top.worldPath), 0o755); err != nil {
		t.Fatal(err)
	}
	top.caDir = filepath.Join(top.dir, "ca")
	writeWorldFile(t, top.worldPath, m.world)

	xdsAddr := "127.0.0.1:" + e2eutil.FreePort(t)
	metricsAddr := "127.0.0.1:" + e2eutil.FreePort(t)
	serveArgs := append([]string{"serve", "--world", top.worldPath, "--xds-address", xdsAddr,
		"--metrics-address", metricsAddr, "--ca-dir", top.caDir}, m.serveArgs...)
	top.causeway = e2eutil.Start(t, "causeway serve", filepath.Join(top.dir, "causeway.log"), causewayBin, serveArgs...)
	// One cleanup dumps diagnostics while the Envoys still run, then stops
	// them (cleanups run last-registered first; causeway stops after this).
	t.Cleanup(func() {
		top.dumpOnFailure(t)
		for _, e := range top.envoys {
			if err := e.Stop(); err != nil {
				t.Error(err)
			}
		}
	})
	if err := e2eutil.Eventually(15*time.Second, 100*time.Millisecond, func() error {
		if top.causeway.Exited() {
			return fmt.Errorf("causeway serve exited")
		}
		return e2eutil.HTTPOK("http://" + metricsAddr + "/healthz")
	}); err != nil {
		t.Fatalf("causeway serve not healthy: %v\n%s", err, top.causeway.LogTail(30))
	}

	for _, b := range m.backends {
		s, err := backend.Start(b.Address, backend.Info{Cluster: b.Cluster, Instance: b.Instance, Version: b.Version})
		if err != nil {
			t.Fatalf("backend %s: %v", b.Instance, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		top.backends[b.Instance] = s
	}

	for _, p := range m.proxies {
		e, err := envoyrun.Start(envoyrun.Options{
			Binary:       envoyBin,
			Bootstrap:    proxyBootstrap(t, p, xdsAddr, m.protocol, e2eutil.IssueProxyCert(t, causewayBin, top.caDir, p.Role, p.Cluster, filepath.Join(top.dir, "xds-certs", p.Name))),
			AdminAddress: p.adminAddress(),
			Dir:          top.dir,
			Name:         p.Name,
		})
		if err != nil {
			t.Fatal(err)
		}
		top.envoys[p.Name] = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(m.proxies))
	for i, p := range m.proxies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = top.envoys[p.Name].WaitReady(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return top
}

// proxyBootstrap runs `causeway bootstrap`, as a user would, for p, with
// xdsCreds (IssueProxyCert): Envoy reaches the control plane over TLS with
// its client certificate, the path production takes. A non-empty protocol
// is passed as --xds-protocol.
func proxyBootstrap(t *testing.T, p proxySpec, xdsAddr, protocol string, xdsCreds []string) []byte {
	t.Helper()
	args := []string{"bootstrap",
		"--role", p.Role, "--cluster", p.Cluster,
		"--region", p.Region, "--zone", p.Zone,
		"--bind-address", p.BindAddress,
		"--xds-address", xdsAddr,
		"--admin-address", p.adminAddress(),
		"--node-id", p.Name}
	if protocol != "" {
		args = append(args, "--xds-protocol", protocol)
	}
	cmd := exec.Command(causewayBin, append(args, xdsCreds...)...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("causeway bootstrap for %s: %v\n%s", p.Name, err, stderr)
	}
	return out
}

// dumpOnFailure logs the tail of every log when t failed, and with
// CAUSEWAY_E2E_ARTIFACTS set (pass or fail) copies logs and Envoy config
// dumps into that directory.
func (top *topology) dumpOnFailure(t *testing.T) {
	if t.Failed() {
		t.Logf("--- causeway serve log tail:\n%s", top.causeway.LogTail(40))
	}
	e2eutil.DumpEnvoys(t, top.envoys)
	if t.Failed() && e2eutil.ArtifactsDir(t) == "" {
		t.Log("set CAUSEWAY_E2E_ARTIFACTS=<dir> to keep logs and Envoy config dumps")
	}
	if dir := e2eutil.ArtifactsDir(t); dir != "" {
		e2eutil.CopyToArtifacts(t, top.causeway.LogPath, "causeway.log")
		e2eutil.CopyToArtifacts(t, top.worldPath, "world.yaml")
		t.Logf("artifacts in %s", dir)
	}
}
