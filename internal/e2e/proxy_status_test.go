package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/admin"
	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// The proxy-status topology, on 127.0.82.x: causeway serve's admin
// endpoint on 127.0.82.1:9092, a gateway proxy on 127.0.82.1:8080, an
// east-west gateway on 127.0.82.100, a backend on 127.0.82.10:9080. A
// socket the test holds on 127.0.82.1:8081 makes the gateway reject a
// listener on that port (it cannot bind it): a real NACK.
const (
	psAdminAddress = "127.0.82.1:9092"
	psGateway      = "gateway-ps-cluster-1"
	psEastWest     = "eastwest-ps-cluster-1"
	psBlockedPort  = "127.0.82.1:8081"
)

var psProxies = []proxySpec{
	{psGateway, "gateway", "cluster-1", "us-east", "us-east-1a", "127.0.82.1", "web/web"},
	{psEastWest, "eastwest", "cluster-1", "us-east", "us-east-1a", "127.0.82.100", ""},
}

var psBackends = []backendSpec{{"cluster-1", "echo", "echo-c1", "v1", "127.0.82.10:9080"}}

// psWorld is the world, with a second Gateway listener on the blocked port
// when blocked is set.
func psWorld(blocked bool) []byte {
	extra := ""
	if blocked {
		extra = "\n  - {name: blocked, port: 8081, protocol: HTTP}"
	}
	return []byte(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec:
  network: network-1
  locality: {region: us-east, zone: us-east-1a}
  eastWestGateways: [{address: 127.0.82.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: echo, namespace: web}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080}]
  endpoints: [{address: 127.0.82.10}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
  namespace: web
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, port: 8080, protocol: HTTP}` + extra + `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [echo.example.com]
  rules:
  - backendRefs: [{name: echo, port: 9080}]
`)
}

// awaitProxyStatus polls the admin endpoint until every proxy in want is
// connected once and check accepts its types; it returns the last list.
func awaitProxyStatus(t *testing.T, what string, want []string, check func(admin.Proxy) error) admin.ProxyList {
	t.Helper()
	c := admin.Client{Address: psAdminAddress}
	var list admin.ProxyList
	if err := e2eutil.Eventually(30*time.Second, 100*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if list, err = c.Proxies(ctx); err != nil {
			return err
		}
		byNode := map[string][]admin.Proxy{}
		for _, p := range list.Proxies {
			byNode[p.Node] = append(byNode[p.Node], p)
		}
		for _, n := range want {
			if len(byNode[n]) != 1 {
				return fmt.Errorf("%s has %d streams, want 1", n, len(byNode[n]))
			}
			if err := check(byNode[n][0]); err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("%s: %v\nlast answer: %+v", what, err, list)
	}
	return list
}

// typeIs checks a proxy's type states, by short type name.
func typeIs(p admin.Proxy, want map[string]string) error {
	for _, ts := range p.Types {
		if w, ok := want[ts.Type]; ok && ts.Sync != w {
			return fmt.Errorf("%s is %s, want %s", ts.Type, ts.Sync, w)
		}
	}
	return nil
}

// psAsks are the types each proxy asks for at least: the east-west
// gateway has no cluster to serve in a one-cluster world, so no endpoints.
var psAsks = map[string][]string{psGateway: {"CDS", "EDS", "LDS", "RDS"}, psEastWest: {"CDS", "LDS"}}

// requestedSynced: every type the proxy asked for is SYNCED, and it asked
// for its psAsks at least.
func requestedSynced(p admin.Proxy) error {
	asked := map[string]bool{}
	for _, ts := range p.Types {
		asked[ts.Type] = ts.Requested
		if ts.Requested && ts.Sync != "SYNCED" {
			return fmt.Errorf("%s is %s", ts.Type, ts.Sync)
		}
	}
	for _, n := range psAsks[p.Node] {
		if !asked[n] {
			return fmt.Errorf("%s never requested", n)
		}
	}
	return nil
}

// proxyStatusCLI runs the real `causeway proxy-status` against the admin
// endpoint and returns its output and exit code.
func proxyStatusCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(causewayBin, append([]string{"proxy-status", "--admin-address", psAdminAddress}, args...)...).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("causeway proxy-status: %v", err)
	}
	return string(out), 0
}

// TestProxyStatus connects a real gateway and east-west gateway and reads
// `causeway proxy-status`: both SYNCED on every type they asked for; a
// Gateway listener the gateway cannot bind is NACKED with Envoy's message
// (and the CLI shows it), and SYNCED again once the listener is gone.
func TestProxyStatus(t *testing.T) {
	e2eutil.RequireEnvoy(t)
	blocker, err := net.Listen("tcp", psBlockedPort)
	if err != nil {
		t.Fatalf("hold %s: %v", psBlockedPort, err)
	}
	defer blocker.Close()
	top := startMesh(t, meshSpec{world: psWorld(false), backends: psBackends, proxies: psProxies,
		serveArgs: []string{"--admin-address", psAdminAddress}})
	nodes := []string{psEastWest, psGateway}

	list := awaitProxyStatus(t, "after connecting", nodes, requestedSynced)
	for _, p := range list.Proxies {
		if p.ConnectedAt.IsZero() || p.RemoteAddress == "" || p.Cluster != "cluster-1" || p.Locality != "us-east/us-east-1a/" {
			t.Errorf("%s: %+v", p.Node, p)
		}
	}
	out, code := proxyStatusCLI(t)
	t.Logf("causeway proxy-status:\n%s", out)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		psGateway + " ", " gateway ", " web/web ", psEastWest + " ", " eastwest ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		node := strings.Fields(line)[0]
		if strings.Count(line, "SYNCED (") != len(psAsks[node]) || strings.Contains(line, "STALE") || strings.Contains(line, "NACKED") {
			t.Errorf("want %v SYNCED, the others NOT SENT: %q", psAsks[node], line)
		}
	}

	// A listener on a port the test holds: Envoy cannot bind it and
	// rejects the listeners.
	writeWorldFile(t, top.worldPath, psWorld(true))
	list = awaitProxyStatus(t, "after the unbindable listener", nodes, func(p admin.Proxy) error {
		if p.Node == psGateway {
			return typeIs(p, map[string]string{"LDS": "NACKED", "CDS": "SYNCED"})
		}
		return requestedSynced(p)
	})
	for _, p := range list.Proxies {
		for _, ts := range p.Types {
			if p.Node == psGateway && ts.Type == "LDS" {
				if ts.NACKed == nil || !strings.Contains(ts.NACKed.Message, "8081") || ts.Holds == ts.Current || ts.NACKed.Version != ts.Current {
					t.Errorf("gateway LDS: %+v, NACK %+v; want the current version NACKed with a message naming port 8081", ts, ts.NACKed)
				}
			}
		}
	}
	out, code = proxyStatusCLI(t, psGateway)
	t.Logf("causeway proxy-status %s:\n%s", psGateway, out)
	if code != 0 || !strings.Contains(out, "LDS NACK of ") || !strings.Contains(out, "8081") {
		t.Errorf("detail (exit %d) lacks the LDS NACK naming port 8081", code)
	}
	out, _ = proxyStatusCLI(t)
	t.Logf("causeway proxy-status:\n%s", out)
	if !strings.Contains(out, "NACKED (") {
		t.Errorf("table lacks the NACK")
	}

	// The listener goes: the version the gateway holds is current again.
	writeWorldFile(t, top.worldPath, psWorld(false))
	awaitProxyStatus(t, "after the listener went", nodes, requestedSynced)

	if out, code := proxyStatusCLI(t, "no-such-node"); code == 0 || !strings.Contains(out, `node "no-such-node" is not connected`) {
		t.Errorf("unknown node: exit %d, %s", code, out)
	}
}
