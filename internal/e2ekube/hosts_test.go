package e2ekube

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/netns"
)

// host is a network namespace standing for one cluster's pod network.
type host struct {
	cluster string
	ns      *netns.Namespace
}

// The seed walk-through's subnets in internal/netns' allocation.
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
// t's cleanup. internal/netns skips t, saying why, when namespaces cannot
// be created, unless CAUSEWAY_REQUIRE_E2E=1.
func startHosts(t *testing.T) map[string]*host {
	t.Helper()
	out := map[string]*host{}
	for _, l := range hostLayout {
		h := &host{cluster: l.cluster, ns: netns.Create(t, l.cluster, l.host, l.addrs...)}
		h.routeLoopbackBack(t)
		out[l.cluster] = h
	}
	return out
}

// routeLoopbackBack lets connections from loopback addresses of the root
// namespace reach the namespace and be answered. Envoy binds its upstream
// connections to its loopback bind address (127.0.21.1, 127.0.22.100), so
// such packets cross the veth: both ends must accept loopback addresses
// (route_localnet), and the namespace must route 127.0.0.0/8 back over the
// veth instead of to its own loopback. Nothing inside listens on loopback.
func (h *host) routeLoopbackBack(t *testing.T) {
	t.Helper()
	path := filepath.Join("/proc/sys/net/ipv4/conf", h.ns.HostLink, "route_localnet")
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	name := h.ns.Name
	for _, args := range [][]string{
		{"netns", "exec", name, "sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.eth0.route_localnet=1"},
		{"-n", name, "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local"},
		{"-n", name, "route", "del", "local", "127.0.0.1", "dev", "lo", "table", "local"},
		{"-n", name, "route", "add", "127.0.0.0/8", "via", h.ns.HostAddr.Addr().String(), "dev", "eth0"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
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
	if err := eventually(10*time.Second, 100*time.Millisecond, func() error {
		if p.Exited() {
			return fmt.Errorf("exited: %v", p.Err())
		}
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}); err != nil {
		t.Fatalf("backend %s in %s not reachable from %s: %v\n%s", b.instance, h.ns.Name, source, err, indent(p.LogTail(10)))
	}
}
