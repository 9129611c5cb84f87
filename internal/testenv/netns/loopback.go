package netns

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RouteLoopbackBack lets connections from loopback addresses of the root
// namespace reach the namespace and be answered. Envoy binds its upstream
// connections to its loopback bind address (127.0.x.y), so such packets
// cross the veth: both ends must accept loopback addresses (route_localnet),
// and the namespace must route 127.0.0.0/8 back over the veth instead of to
// its own loopback. Afterwards nothing inside the namespace can listen on
// loopback; the namespace's own addresses still work. The settings go away
// with the namespace and its veth pair.
func (ns *Namespace) RouteLoopbackBack(t testing.TB) {
	t.Helper()
	path := filepath.Join("/proc/sys/net/ipv4/conf", ns.HostLink, "route_localnet")
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		t.Fatalf("netns %s: %s: %v", ns.Name, path, err)
	}
	for _, args := range [][]string{
		{"netns", "exec", ns.Name, "sysctl", "-q", "-w", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf." + peerLink + ".route_localnet=1"},
		{"-n", ns.Name, "route", "del", "local", "127.0.0.0/8", "dev", "lo", "table", "local"},
		{"-n", ns.Name, "route", "del", "local", "127.0.0.1", "dev", "lo", "table", "local"},
		{"-n", ns.Name, "route", "add", "127.0.0.0/8", "via", ns.HostAddr.Addr().String(), "dev", peerLink},
	} {
		if out, err := ip(args...); err != nil {
			t.Fatalf("netns %s: ip %s: %v: %s", ns.Name, strings.Join(args, " "), err, out)
		}
	}
}
