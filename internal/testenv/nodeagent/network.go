package nodeagent

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
		hostLink: fmt.Sprintf("cwn%07x%03x", pid&0xfffffff, n&0xfff),
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
	killNamespace(ns)
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

// killNamespace SIGKILLs, by PID, every process in the namespace.
func killNamespace(ns string) {
	out, err := ip("netns", "pids", ns)
	if err != nil {
		return
	}
	for _, s := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(s); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// sweep removes namespaces (and their processes and host links) that test
// processes which have since died left behind: their host link would hold
// the subnet and make the next run fail.
func sweep(logf func(string, ...any)) {
	out, err := ip("netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], namePrefix) {
			continue
		}
		name := f[0]
		parts := strings.SplitN(strings.TrimPrefix(name, namePrefix), "-", 3)
		if len(parts) < 3 {
			continue
		}
		pid, err1 := strconv.Atoi(parts[0])
		n, err2 := strconv.ParseUint(parts[1], 10, 32)
		if err1 != nil || err2 != nil || pid <= 0 || alive(pid) {
			continue
		}
		killNamespace(name)
		if parts[2] == "node" {
			_, _ = ip("link", "del", fmt.Sprintf("cwn%07x%03x", pid&0xfffffff, n&0xfff))
		}
		if out, err := ip("netns", "del", name); err != nil {
			logf("nodeagent: removing %s left by dead process %d: %v: %s", name, pid, err, out)
			continue
		}
		logf("nodeagent: removed %s left by dead process %d", name, pid)
	}
}

func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// subnetUsers names the host interfaces holding an address in p.
func subnetUsers(p netip.Prefix) string {
	out, err := ip("-o", "-4", "addr", "show", "to", p.Masked().String())
	if err != nil {
		return ""
	}
	var users []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) >= 4 {
			users = append(users, f[1]+" "+f[3])
		}
	}
	return strings.Join(users, ", ")
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
