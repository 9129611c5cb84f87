package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// proxySpec is one Envoy of the test topology: e2eutil.ProxySpec's fields,
// a type of its own so the package's literals stay unkeyed.
type proxySpec struct {
	Name, Role, Cluster, Region, Zone, BindAddress, Gateway string
}

const (
	gatewayAddress = "127.0.11.1"
	gatewayPort    = 8080 // from the Gateway listener in the world file
	bookinfoHost   = "bookinfo.example.com"
)

var proxies = []proxySpec{
	{"gateway-cluster-1", "gateway", "cluster-1", "us-east", "us-east-1a", gatewayAddress, "bookinfo/bookinfo-gateway"},
	{"eastwest-cluster-1", "eastwest", "cluster-1", "us-east", "us-east-1a", "127.0.11.100", ""},
	{"eastwest-cluster-2-a", "eastwest", "cluster-2", "us-west", "us-west-1a", "127.0.12.100", ""},
	{"eastwest-cluster-2-b", "eastwest", "cluster-2", "us-west", "us-west-1a", "127.0.12.101", ""},
}

// topology is one running control plane with its Envoys and backends.
type topology struct {
	dir       string
	worldPath string
	caDir     string
	// metricsAddr is causeway serve's metrics (and health) address.
	metricsAddr string
	causeway    *e2eutil.Process
	envoys      map[string]*envoyrun.Envoy // by proxySpec.Name
	backends    map[string]*backend.Server // by backendSpec.Instance
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
	// serveArgs are more `causeway serve` flags (--log-level debug...).
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
	top.metricsAddr = metricsAddr
	top.causeway = e2eutil.Start(t, "causeway serve", filepath.Join(top.dir, "causeway.log"), causewayBin,
		append([]string{"serve", "--world", top.worldPath, "--xds-address", xdsAddr,
			"--metrics-address", metricsAddr, "--ca-dir", top.caDir}, m.serveArgs...)...)
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

	specs := make([]e2eutil.ProxySpec, len(m.proxies))
	bootstraps := make([][]byte, len(m.proxies))
	for i, p := range m.proxies {
		specs[i] = e2eutil.ProxySpec(p)
		var extra []string
		if m.protocol != "" {
			extra = []string{"--xds-protocol", m.protocol}
		}
		creds := e2eutil.IssueProxyCert(t, causewayBin, top.caDir, p.Role, p.Cluster, filepath.Join(top.dir, "xds-certs", p.Name))
		bootstraps[i] = e2eutil.ProxyBootstrap(t, causewayBin, specs[i], []string{xdsAddr}, append(extra, creds...)...)
	}
	envoys, err := e2eutil.StartEnvoys(t, envoyBin, top.dir, specs, bootstraps, 30*time.Second)
	top.envoys = envoys
	if err != nil {
		t.Fatal(err)
	}
	return top
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
