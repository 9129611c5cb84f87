package lbstandin

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// dialTimeout bounds the connection to an endpoint; endpoints live on
	// this machine, so a second is generous.
	dialTimeout = 2 * time.Second
	// maxConnsPerPort bounds open connections through one listener; more
	// are closed on accept.
	maxConnsPerPort = 1024
)

// forwarder is one Service port's listener: it accepts on the Service's
// address and port and copies each connection to a ready endpoint.
type forwarder struct {
	ln net.Listener
	// portName is the Service port's name, which EndpointSlice ports carry.
	portName atomic.Pointer[string]
	backends atomic.Pointer[[]netip.AddrPort]
	next     atomic.Uint64
	// connections counts every accepted connection, forwarded or not.
	connections atomic.Uint64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func listen(addr netip.AddrPort, portName string) (*forwarder, error) {
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		return nil, err
	}
	f := &forwarder{ln: ln, conns: map[net.Conn]struct{}{}}
	f.portName.Store(&portName)
	f.backends.Store(&[]netip.AddrPort{})
	f.wg.Add(1)
	go f.accept()
	return f, nil
}

func (f *forwarder) setBackends(b []netip.AddrPort) { f.backends.Store(&b) }

// pick returns the next ready endpoint, round-robin, or false when there is
// none.
func (f *forwarder) pick() (netip.AddrPort, bool) {
	b := *f.backends.Load()
	if len(b) == 0 {
		return netip.AddrPort{}, false
	}
	return b[(f.next.Add(1)-1)%uint64(len(b))], true
}

func (f *forwarder) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Temporary failures (EMFILE): back off briefly and go on;
			// close ends the loop through ErrClosed.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		f.connections.Add(1)
		if !f.track(c) {
			c.Close()
			continue
		}
		f.wg.Add(1)
		go f.serve(c)
	}
}

// track registers c for closing on shutdown; false when the forwarder is
// closed or full.
func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || len(f.conns) >= maxConnsPerPort {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
		c.Close()
	}
}

// serve copies one client connection to an endpoint and back. Each
// direction's end is passed on as a half-close, so protocols that close
// their sending side first still get their answer.
func (f *forwarder) serve(client net.Conn) {
	defer f.wg.Done()
	backend, ok := f.pick()
	if !ok {
		f.untrack(client)
		return
	}
	upstream, err := net.DialTimeout("tcp", backend.String(), dialTimeout)
	if err != nil {
		f.untrack(client)
		return
	}
	if !f.track(upstream) {
		upstream.Close()
		f.untrack(client)
		return
	}
	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); pipe(upstream, client) }()
	go func() { defer copies.Done(); pipe(client, upstream) }()
	copies.Wait()
	f.untrack(client, upstream)
}

// pipe copies src to dst, then half-closes dst (or closes it when it
// cannot half-close) and stops reading src.
func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		_ = dst.Close()
	}
	if tc, ok := src.(*net.TCPConn); ok {
		_ = tc.CloseRead()
	}
}

// close stops accepting, closes every open connection and waits for the
// goroutines.
func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	_ = f.ln.Close()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
