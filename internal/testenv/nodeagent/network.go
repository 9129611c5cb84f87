package nodeagent

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/causeway-dev/causeway/internal/testenv/netns"
)

// namePrefix starts every network namespace this package creates; the
// netns package uses "cw-", so neither sweeps the other's.
const namePrefix = "cwn-"

// bridgeName is the bridge inside the node namespace; nodeLink is the node
// namespace's end of the host veth.
const (
	bridgeName = "br0"
	nodeLink   = "host0"
	podLink    = "eth0"
)

var seq atomic.Uint32

// network is the node namespace with its bridge, the host veth, and the
// Pod address pool.
type network struct {
	prefix   netip.Prefix
	nodeNS   string // `ip netns` name of the namespace holding the bridge
	hostLink string // root-namespace end of the veth, holding the node address

	mu   sync.Mutex
	used map[netip.Addr]string // Pod IP -> Pod netns name
	last netip.Addr            // the address handed out last
}

// nextFree is the first free Pod address after the last one handed out,
// wrapping round; nw.mu is held.
func (nw *network) nextFree() (netip.Addr, bool) {
	first := nw.nodeAddr().Next()
	valid := func(a netip.Addr) bool {
		// The last address of the prefix is its broadcast address.
		return nw.prefix.Contains(a) && nw.prefix.Contains(a.Next())
	}
	a := first
	if nw.last.IsValid() && valid(nw.last.Next()) {
		a = nw.last.Next()
	}
	for range 1 << (32 - nw.prefix.Bits()) {
		if _, taken := nw.used[a]; !taken {
			return a, true
		}
		if a = a.Next(); !valid(a) {
			a = first
		}
	}
	return netip.Addr{}, false
}

// newNetwork creates the node namespace, its bridge and the host veth with
// the node address (the prefix's first host address).
func newNetwork(prefix netip.Prefix) (*network, error) {
	pid, n := os.Getpid(), seq.Add(1)
	nw := &network{
		prefix:   prefix.Masked(),
		nodeNS:   fmt.Sprintf("%s%d-%d-node", namePrefix, pid, n),
		hostLink: nodeLinkName(pid, n),
		used:     map[netip.Addr]string{},
	}
	node := nw.nodeAddr()
	steps := [][]string{
		{"netns", "add", nw.nodeNS},
		{"-n", nw.nodeNS, "link", "set", "lo", "up"},
		{"-n", nw.nodeNS, "link", "add", bridgeName, "type", "bridge"},
		{"-n", nw.nodeNS, "link", "set", bridgeName, "up"},
		{"link", "add", nw.hostLink, "type", "veth", "peer", "name", nodeLink, "netns", nw.nodeNS},
		{"-n", nw.nodeNS, "link", "set", nodeLink, "master", bridgeName, "up"},
		{"addr", "add", netip.PrefixFrom(node, nw.prefix.Bits()).String(), "dev", nw.hostLink},
		{"link", "set", nw.hostLink, "up"},
	}
	for _, s := range steps {
		if out, err := ip(s...); err != nil {
			nw.close()
			return nil, fmt.Errorf("node network %s: ip %s: %v: %s", nw.prefix, strings.Join(s, " "), err, out)
		}
	}
	return nw, nil
}

// nodeAddr is the prefix's first host address.
func (nw *network) nodeAddr() netip.Addr { return nw.prefix.Addr().Next() }

// addPod allocates an address, creates the Pod's namespace and plugs a
// veth into the bridge. The name says which Pod it is for in `ip netns
// list`. Addresses go round from .2 up, so a freed one is reused as late
// as possible: neighbours may still have the old Pod's MAC cached.
func (nw *network) addPod(podName string) (netip.Addr, string, error) {
	nw.mu.Lock()
	addr, ok := nw.nextFree()
	if !ok {
		nw.mu.Unlock()
		return netip.Addr{}, "", fmt.Errorf("pod network %s has no free address", nw.prefix)
	}
	nw.last = addr
	n := seq.Add(1)
	ns := fmt.Sprintf("%s%d-%d-pod-%s", namePrefix, os.Getpid(), n, shorten(podName, 40))
	nw.used[addr] = ns
	nw.mu.Unlock()

	bridgeEnd := fmt.Sprintf("p%x", n) // inside the node namespace only
	steps := [][]string{
		{"netns", "add", ns},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", nw.nodeNS, "link", "add", bridgeEnd, "type", "veth", "peer", "name", podLink, "netns", ns},
		{"-n", nw.nodeNS, "link", "set", bridgeEnd, "master", bridgeName, "up"},
		{"-n", ns, "addr", "add", netip.PrefixFrom(addr, nw.prefix.Bits()).String(), "dev", podLink},
		{"-n", ns, "link", "set", podLink, "up"},
		// Everything off the Pod network goes to the node address: the
		// root namespace answers for its own addresses (no forwarding).
		{"-n", ns, "route", "add", "default", "via", nw.nodeAddr().String()},
	}
	for _, s := range steps {
		if out, err := ip(s...); err != nil {
			nw.removePod(addr, ns)
			return netip.Addr{}, "", fmt.Errorf("pod %s network: ip %s: %v: %s", podName, strings.Join(s, " "), err, out)
		}
	}
	return addr, ns, nil
}

// removePod kills what still runs in the Pod's namespace, deletes it (its
// veth pair goes with it) and frees the address.
func (nw *network) removePod(addr netip.Addr, ns string) {
	netns.KillProcesses(ns)
	_, _ = ip("netns", "del", ns)
	nw.mu.Lock()
	delete(nw.used, addr)
	nw.mu.Unlock()
}

// close removes every Pod namespace still there, the node namespace and
// the host veth.
func (nw *network) close() []error {
	nw.mu.Lock()
	left := map[netip.Addr]string{}
	for a, ns := range nw.used {
		left[a] = ns
	}
	nw.mu.Unlock()
	for a, ns := range left {
		nw.removePod(a, ns)
	}
	var errs []error
	if out, err := ip("link", "del", nw.hostLink); err != nil && !bytes.Contains(out, []byte("Cannot find device")) {
		errs = append(errs, fmt.Errorf("ip link del %s: %v: %s", nw.hostLink, err, out))
	}
	if out, err := ip("netns", "del", nw.nodeNS); err != nil && !bytes.Contains(out, []byte("No such file")) {
		errs = append(errs, fmt.Errorf("ip netns del %s: %v: %s", nw.nodeNS, err, out))
	}
	return errs
}

// nodeLinkName is the host end of the node namespace's veth, named from
// the creating process and sequence number like the namespace.
func nodeLinkName(pid int, n uint32) string {
	return fmt.Sprintf("cwn%07x%03x", pid&0xfffffff, n&0xfff)
}

// sweepDead removes what dead test processes left: their namespaces,
// processes and node links (netns.SweepDead with this package's names).
func sweepDead(logf func(string, ...any)) {
	netns.SweepDead(namePrefix, func(pid int, n uint32, name string) string {
		if name == "node" {
			return nodeLinkName(pid, n)
		}
		return ""
	}, logf)
}

// setSysctl writes a namespaced sysctl inside the Pod's network namespace
// (net.* sysctls are per namespace; the host's stay untouched).
func setSysctl(ns, name, value string) error {
	if !strings.HasPrefix(name, "net.") || strings.Contains(name, "..") {
		return fmt.Errorf("sysctl %s: only net.* sysctls are namespaced here", name)
	}
	path := "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
	out, err := run("nsenter", "--net=/run/netns/"+ns, "--", "sh", "-c", `echo "$2" > "$1"`, "sh", path, value)
	if err != nil {
		return fmt.Errorf("sysctl %s=%s: %v: %s", name, value, err, out)
	}
	return nil
}

func ip(args ...string) ([]byte, error) { return run("ip", args...) }

func run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return bytes.TrimSpace(out), err
}

// shorten keeps names readable in `ip netns list` without growing long.
func shorten(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
