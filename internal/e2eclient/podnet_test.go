package e2eclient

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// podNet opens sockets inside a network namespace, as an application in
// that namespace (a pod of cluster-1) would: each dial runs on an OS thread
// switched into the namespace with setns(2), and the socket keeps belonging
// to the namespace after the thread switches back. Only addresses inside
// subnet may be dialed, so no test traffic leaves the test's own veth.
type podNet struct {
	nsName string
	subnet netip.Prefix
}

// nsPath is where `ip netns add` pins the namespace.
func (p podNet) nsPath() string { return filepath.Join("/var/run/netns", p.nsName) }

// DialContext dials address (an IP literal and port inside p.subnet) from
// inside the namespace; it fits http.Transport.DialContext and
// net.Resolver.Dial.
func (p podNet) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, fmt.Errorf("pod dial %s: want an IP literal and a port: %v", address, err)
	}
	if !p.subnet.Contains(ap.Addr()) {
		return nil, fmt.Errorf("pod dial %s: outside the test subnet %s", address, p.subnet)
	}
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// A thread left in the namespace must never run other goroutines:
		// unless the switch back succeeds, the goroutine ends still locked
		// and the runtime retires its thread.
		runtime.LockOSThread()
		back, err := enterNetns(p.nsPath())
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, err}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, address)
		if back() == nil {
			runtime.UnlockOSThread()
		}
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}

// enterNetns switches the calling (locked) thread into the namespace at
// path and returns the function that switches it back.
func enterNetns(path string) (back func() error, err error) {
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
	if err != nil {
		return nil, err
	}
	target, err := os.Open(path)
	if err != nil {
		orig.Close()
		return nil, err
	}
	defer target.Close()
	if err := setns(target); err != nil {
		orig.Close()
		return nil, fmt.Errorf("setns %s: %w", path, err)
	}
	return func() error {
		defer orig.Close()
		return setns(orig)
	}, nil
}

func setns(f *os.File) error { return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET) }
