package e2ekube

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/testenv/netns"
)

// host is a network namespace standing for one cluster's pod network.
type host struct {
	cluster string
	ns      *netns.Namespace
}

// The seed walk-through's subnets in internal/testenv/netns' allocation.
var hostLayout = []struct {
	cluster string
	host    netip.Prefix
	addrs   []netip.Prefix
}{
	{"cluster-1", netip.MustParsePrefix("198.18.1.1/24"), []netip.Prefix{
		netip.MustParsePrefix(v1Address + "/24"), netip.MustParsePrefix(v2Address + "/24")}},
	{"cluster-2", netip.MustParsePrefix("198.18.2.1/24"), []netip.Prefix{
		netip.MustParsePrefix(v3Address + "/24")}},
}

// startHosts creates one namespace per workload cluster, removed again by
// t's cleanup. internal/testenv/netns skips t, saying why, when namespaces cannot
// be created, unless CAUSEWAY_REQUIRE_E2E=1.
func startHosts(t *testing.T) map[string]*host {
	t.Helper()
	out := map[string]*host{}
	for _, l := range hostLayout {
		h := &host{cluster: l.cluster, ns: netns.Create(t, l.cluster, l.host, l.addrs...)}
		h.ns.RouteLoopbackBack(t)
		out[l.cluster] = h
	}
	return out
}

// startBackend runs cmd/sample-backend for b inside the namespace (stopped
// by the namespace's cleanup) and waits until it answers a connection from
// the loopback address the proxy of b's cluster will use.
func (h *host) startBackend(t *testing.T, b backendSpec) {
	t.Helper()
	p, err := h.ns.Exec(context.Background(), backendBin, "--address", net.JoinHostPort(b.address, "9080"),
		"--cluster", b.cluster, "--instance", b.instance, "--version", b.version)
	if err != nil {
		t.Fatal(err)
	}
	source := gatewayEnvoy.bind
	if b.cluster != gatewayEnvoy.cluster {
		source = eastWestEnvoy.bind
	}
	client := &http.Client{
		Timeout: time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{
			LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)},
		}).DialContext},
	}
	url := "http://" + net.JoinHostPort(b.address, "9080") + "/healthz"
	if err := e2eutil.Eventually(10*time.Second, 100*time.Millisecond, func() error {
		if p.Exited() {
			return fmt.Errorf("exited: %v", p.Err())
		}
		return e2eutil.HTTPOKWith(client, url)
	}); err != nil {
		t.Fatalf("backend %s in %s not reachable from %s: %v\n%s", b.instance, h.ns.Name, source, err, e2eutil.Indent(p.LogTail(10)))
	}
}
