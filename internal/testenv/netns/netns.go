package netns

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// EnvRequire set to "1" turns skips for missing privileges into failures.
const EnvRequire = "CAUSEWAY_REQUIRE_E2E"

// namePrefix starts the name of every namespace this package creates;
// sweep only ever touches names with it.
const namePrefix = "cw-"

// peerLink is the veth end inside the namespace; each namespace has its own
// link names, so it can be the same everywhere.
const peerLink = "eth0"

var seq atomic.Uint32

// Namespace is a network namespace with one veth link to the host.
type Namespace struct {
	// Name is the `ip netns` name.
	Name string
	// HostLink is the host end of the veth pair; HostAddr is its address.
	HostLink string
	HostAddr netip.Prefix
	// Addrs are the namespace end's addresses, in the order given.
	Addrs []netip.Prefix

	dir   string
	mu    sync.Mutex
	procs []*Process
}

// Create makes a namespace called after name (plus a unique prefix), a veth
// pair with host on the host end and addrs (at least one, all inside
// host's subnet) on the namespace end, and brings the links and lo up.
// t's cleanup removes it all.
func Create(t testing.TB, name string, host netip.Prefix, addrs ...netip.Prefix) *Namespace {
	t.Helper()
	if err := validate(host, addrs); err != nil {
		t.Fatalf("netns %s: %v", name, err)
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "network namespaces need root (euid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "network namespaces need the `ip` command (iproute2): %v", err)
	}
	sweep(t)
	if users, err := SubnetUsers(host); err != nil {
		t.Fatalf("netns %s: %v", name, err)
	} else if users != "" {
		t.Fatalf("netns %s: subnet %s is already in use on this machine (%s); another test running? pick another subnet (see package doc)",
			name, host.Masked(), users)
	}

	pid, n := os.Getpid(), seq.Add(1)
	ns := &Namespace{
		Name:     fmt.Sprintf("%s%d-%d-%s", namePrefix, pid, n, name),
		HostLink: hostLinkName(pid, n),
		HostAddr: host,
		Addrs:    addrs,
		dir:      t.TempDir(),
	}
	if out, err := ip("netns", "add", ns.Name); err != nil {
		skipOrFail(t, "`ip netns add` failed (no privilege to create network namespaces here?): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := ns.cleanup(t.Failed(), t); err != nil {
			t.Errorf("netns %s cleanup: %v", ns.Name, err)
		}
	})
	if out, err := ip("link", "add", ns.HostLink, "type", "veth", "peer", "name", peerLink, "netns", ns.Name); err != nil {
		skipOrFail(t, "cannot create a veth pair: %v: %s", err, out)
	}
	steps := [][]string{
		append([]string{"addr", "add", host.String(), "dev", ns.HostLink}, dadFlag(host)...),
		{"link", "set", ns.HostLink, "up"},
		{"-n", ns.Name, "link", "set", "lo", "up"},
	}
	for _, a := range addrs {
		steps = append(steps, append([]string{"-n", ns.Name, "addr", "add", a.String(), "dev", peerLink}, dadFlag(a)...))
	}
	steps = append(steps, []string{"-n", ns.Name, "link", "set", peerLink, "up"})
	for _, s := range steps {
		if out, err := ip(s...); err != nil {
			t.Fatalf("netns %s: ip %s: %v: %s", ns.Name, strings.Join(s, " "), err, out)
		}
	}
	return ns
}

// Addr is the first namespace address, without its prefix length.
func (ns *Namespace) Addr() netip.Addr { return ns.Addrs[0].Addr() }

// validate checks the addresses before anything is created.
func validate(host netip.Prefix, addrs []netip.Prefix) error {
	if !host.IsValid() {
		return fmt.Errorf("invalid host address %v", host)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("no namespace address given")
	}
	subnet := host.Masked()
	seen := map[netip.Addr]bool{host.Addr(): true}
	for _, a := range addrs {
		if !a.IsValid() {
			return fmt.Errorf("invalid namespace address %v", a)
		}
		// Only the connected route of the host's subnet leads into the
		// namespace; Create adds no other route.
		if a.Bits() != host.Bits() || !subnet.Contains(a.Addr()) {
			return fmt.Errorf("namespace address %v is not in the host subnet %v", a, subnet)
		}
		if a.Addr() == subnet.Addr() {
			return fmt.Errorf("namespace address %v is the subnet's network address", a)
		}
		if seen[a.Addr()] {
			return fmt.Errorf("address %v given twice (host or namespace)", a.Addr())
		}
		seen[a.Addr()] = true
	}
	return nil
}

// hostLinkName fits IFNAMSIZ (15 characters): "cw" + 7 hex digits of the
// PID + 4 of the sequence number.
func hostLinkName(pid int, n uint32) string {
	return fmt.Sprintf("cw%07x%04x", pid&0xfffffff, n&0xffff)
}

// IPv6 addresses would sit in "tentative" state for duplicate address
// detection for a second or two; no other host shares the link.
func dadFlag(p netip.Prefix) []string {
	if p.Addr().Is6() {
		return []string{"nodad"}
	}
	return nil
}

// SubnetUsers names the host interfaces holding an address in p's subnet
// ("" when none): a subnet must be free before a test takes it.
func SubnetUsers(p netip.Prefix) (string, error) {
	family := "-4"
	if p.Addr().Is6() {
		family = "-6"
	}
	out, err := ip("-o", family, "addr", "show", "to", p.Masked().String())
	if err != nil {
		return "", fmt.Errorf("ip addr show: %v: %s", err, out)
	}
	var users []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) >= 4 {
			users = append(users, f[1]+" "+f[3])
		}
	}
	return strings.Join(users, ", "), nil
}

// cleanup kills the processes, then deletes the veth pair (synchronously;
// the kernel would otherwise drop it only when it gets round to destroying
// the namespace) and the namespace.
func (ns *Namespace) cleanup(failed bool, t testing.TB) error {
	ns.mu.Lock()
	procs := ns.procs
	ns.mu.Unlock()
	var errs []string
	for _, p := range procs {
		if failed {
			t.Logf("netns %s: %s log tail:\n%s", ns.Name, p.Name, p.LogTail(20))
		}
		if err := p.Stop(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if out, err := ip("link", "del", ns.HostLink); err != nil && !strings.Contains(string(out), "Cannot find device") {
		errs = append(errs, fmt.Sprintf("ip link del %s: %v: %s", ns.HostLink, err, out))
	}
	if out, err := ip("netns", "del", ns.Name); err != nil {
		errs = append(errs, fmt.Sprintf("ip netns del %s: %v: %s", ns.Name, err, out))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func ip(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	return bytes.TrimSpace(out), err
}

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf(EnvRequire+"=1 but "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// logPath names a process's log file in the namespace's directory.
func (ns *Namespace) logPath(name string, n int) string {
	return filepath.Join(ns.dir, fmt.Sprintf("%d-%s.log", n, filepath.Base(name)))
}
