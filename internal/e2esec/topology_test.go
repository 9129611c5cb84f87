package e2esec

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

const (
	trustDomain    = "causeway.local"
	gatewayAddress = "127.0.51.1"
	eastWestAddr   = "127.0.52.100:15443"
	reviewsHost    = "reviews.mesh.internal.com"
)

// proxy is one Envoy of the topology; gateway is the Gateway a gateway
// proxy serves.
type proxy struct{ name, role, cluster, bind, gateway string }

// gatewayArgs are the `causeway bootstrap` and `translate` flags naming
// p's Gateway.
func (p proxy) gatewayArgs() []string {
	if p.gateway == "" {
		return nil
	}
	return []string{"--gateway", p.gateway}
}

// The gateway in cluster-1 reaches reviews only through cluster-2's
// east-west gateway: every request crosses the mTLS hop under test.
var (
	gatewayProxy  = proxy{"gateway-cluster-1", "gateway", "cluster-1", gatewayAddress, "bookinfo/bookinfo-gateway"}
	eastWestProxy = proxy{"eastwest-cluster-2", "eastwest", "cluster-2", "127.0.52.100", ""}
	backendAddrs  = []string{"127.0.52.10:9080", "127.0.52.11:9080"}
)

const world = `
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec:
  network: network-1
  locality: {region: us-east, zone: us-east-1a}
  eastWestGateways: [{address: 127.0.51.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-2}
spec:
  network: network-2
  locality: {region: us-west, zone: us-west-1a}
  eastWestGateways: [{address: 127.0.52.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: reviews, namespace: bookinfo, labels: {app: reviews}}
spec:
  cluster: cluster-2
  ports: [{name: http, port: 9080, targetPort: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.52.10}, {address: 127.0.52.11}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: reviews}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
  namespace: bookinfo
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, port: 8080, protocol: HTTP, hostname: bookinfo.example.com}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bookinfo, namespace: bookinfo}
spec:
  parentRefs: [{name: bookinfo-gateway}]
  hostnames: [bookinfo.example.com]
  rules:
  - backendRefs: [{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]
`

// topology is a running control plane, two Envoys and the backends.
type topology struct {
	dir, worldPath, caDir, xdsAddr, metricsAddr string
	serveArgs                                   []string // extra `causeway serve` flags
	causeway                                    *e2eutil.Process
	restarts                                    int
	envoys                                      map[string]*envoyrun.Envoy
}

// startTopology creates the CA in caDir (so tests can issue from it before
// anything runs), starts `causeway serve` with extra flags, the backends
// and both Envoys, and waits until traffic flows gateway → east-west →
// backend.
func startTopology(t *testing.T, serveArgs ...string) *topology {
	t.Helper()
	envoyBin := e2eutil.RequireEnvoy(t)
	top := &topology{dir: t.TempDir(), serveArgs: serveArgs, envoys: map[string]*envoyrun.Envoy{}}
	top.worldPath = filepath.Join(top.dir, "world", "world.yaml")
	top.caDir = filepath.Join(top.dir, "ca")
	if err := os.MkdirAll(filepath.Dir(top.worldPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(top.worldPath, []byte(world), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.LoadOrCreate(top.caDir, trustDomain); err != nil {
		t.Fatal(err)
	}
	top.xdsAddr = "127.0.0.1:" + e2eutil.FreePort(t)
	top.metricsAddr = "127.0.0.1:" + e2eutil.FreePort(t)
	if xdsTLS && !top.insecure() {
		t.Log("xDS over TLS; proxies authenticate with certificates from `causeway certs issue`")
	} else {
		t.Log("xDS in plaintext (--xds-insecure)")
	}
	top.startCauseway(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- causeway serve log tail:\n%s", top.causeway.LogTail(40))
		}
		e2eutil.DumpEnvoys(t, top.envoys)
		for _, e := range top.envoys {
			if err := e.Stop(); err != nil {
				t.Error(err)
			}
		}
	})
	for i, addr := range backendAddrs {
		s, err := backend.Start(addr, backend.Info{Cluster: "cluster-2", Instance: fmt.Sprintf("reviews-%d", i)})
		if err != nil {
			t.Fatalf("backend %s: %v", addr, err)
		}
		t.Cleanup(func() { _ = s.Close() })
	}
	for _, p := range []proxy{gatewayProxy, eastWestProxy} {
		e, err := envoyrun.Start(envoyrun.Options{
			Binary: envoyBin, Bootstrap: top.bootstrap(t, p), AdminAddress: p.bind + ":19000", Dir: top.dir, Name: p.name,
		})
		if err != nil {
			t.Fatal(err)
		}
		top.envoys[p.name] = e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, e := range top.envoys {
		if err := e.WaitReady(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := e2eutil.Eventually(20*time.Second, 50*time.Millisecond, getReviews); err != nil {
		t.Fatalf("no answer through gateway → east-west → backend: %v", err)
	}
	return top
}

// startCauseway starts `causeway serve` on the topology's fixed addresses
// and waits until it is healthy.
func (top *topology) startCauseway(t *testing.T) {
	t.Helper()
	args := []string{"serve", "--world", top.worldPath, "--xds-address", top.xdsAddr,
		"--metrics-address", top.metricsAddr, "--ca-dir", top.caDir, "--trust-domain", trustDomain}
	if xdsTLS && !top.insecure() {
		args = append(args, "--xds-server-name", "localhost")
	}
	args = append(args, top.serveArgs...)
	top.restarts++
	log := filepath.Join(top.dir, fmt.Sprintf("causeway-%d.log", top.restarts))
	top.causeway = e2eutil.Start(t, "causeway serve", log, causewayBin, args...)
	if err := e2eutil.Eventually(15*time.Second, 50*time.Millisecond, func() error {
		if top.causeway.Exited() {
			return fmt.Errorf("causeway serve exited")
		}
		return e2eutil.HTTPOK("http://" + top.metricsAddr + "/healthz")
	}); err != nil {
		t.Fatalf("causeway serve not healthy: %v\n%s", err, top.causeway.LogTail(30))
	}
}

// restartCauseway stops causeway serve and starts it again, picking up the
// CA directory's current contents; the Envoys keep their last
// configuration meanwhile and reconnect. The CA directory may only
// change while the control plane is stopped, as in a real restart, so
// change runs while it is stopped.
func (top *topology) restartCauseway(t *testing.T, change func()) {
	t.Helper()
	if err := top.causeway.Stop(); err != nil {
		t.Fatal(err)
	}
	change()
	top.startCauseway(t)
}

// insecure reports whether this topology runs xDS in plaintext.
func (top *topology) insecure() bool {
	for _, a := range top.serveArgs {
		if a == "--xds-insecure" {
			return true
		}
	}
	return false
}

// bootstrap runs `causeway bootstrap` for p as a user would: with a client
// certificate from `causeway certs issue` when xDS is TLS.
func (top *topology) bootstrap(t *testing.T, p proxy) []byte {
	t.Helper()
	args := []string{"bootstrap", "--role", p.role, "--cluster", p.cluster, "--bind-address", p.bind,
		"--xds-address", top.xdsAddr, "--admin-address", p.bind + ":19000", "--node-id", p.name}
	args = append(args, p.gatewayArgs()...)
	if xdsTLS && !top.insecure() {
		out := filepath.Join(top.dir, "creds-"+p.name)
		runCmd(t, causewayBin, "certs", "issue", "--ca-dir", top.caDir, "--trust-domain", trustDomain,
			"--role", p.role, "--cluster", p.cluster, "--out", out)
		args = append(args, "--xds-ca", filepath.Join(out, "ca.pem"),
			"--xds-cert", filepath.Join(out, "cert.pem"), "--xds-key", filepath.Join(out, "key.pem"))
	} else {
		args = append(args, "--xds-insecure")
	}
	return runCmd(t, causewayBin, args...)
}

func runCmd(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %v: %v\n%s", bin, args, err, stderr)
	}
	return out
}

var gatewayClient = &http.Client{Timeout: 2 * time.Second}

// getReviews sends one request through the cluster-1 gateway; it must be
// answered by a reviews backend in cluster-2 through the east-west gateway.
func getReviews() error {
	req, err := reviewsRequest()
	if err != nil {
		return err
	}
	r, err := e2eutil.GetBackend(gatewayClient, req)
	if err != nil {
		return err
	}
	return throughEastWest(r)
}
