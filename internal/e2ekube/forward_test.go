package e2ekube

import (
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// forwarder is a TCP forwarder on loopback to one API server. A kubeconfig
// pointing at it reaches the same server, so a test can tell from its
// connection count whether that kubeconfig is in use.
type forwarder struct {
	ln     net.Listener
	target string
	count  atomic.Int64 // connections accepted
	open   atomic.Int64 // connections not yet closed
	down   atomic.Int64 // bytes from the API server to clients
	mu     sync.Mutex
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

// startForwarder listens on 127.0.0.1 (free port) and forwards every
// connection to target; t's cleanup closes it and every connection.
func startForwarder(t *testing.T, target string) *forwarder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{ln: ln, target: target, conns: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.serve()
	t.Cleanup(f.close)
	return f
}

func (f *forwarder) addr() string       { return f.ln.Addr().String() }
func (f *forwarder) connections() int64 { return f.count.Load() }
func (f *forwarder) openConns() int64   { return f.open.Load() }
func (f *forwarder) bytesDown() int64   { return f.down.Load() }

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		in, err := f.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", f.target)
		if err != nil {
			in.Close()
			continue
		}
		f.count.Add(1)
		if !f.track(in, out) {
			return
		}
		f.open.Add(1)
		var pipes sync.WaitGroup
		pipes.Add(2)
		f.wg.Add(3)
		go func() { defer pipes.Done(); f.pipe(out, in, nil) }()
		go func() { defer pipes.Done(); f.pipe(in, out, &f.down) }()
		go func() { defer f.wg.Done(); pipes.Wait(); f.open.Add(-1) }()
	}
}

// track remembers a pair for close; false (and both closed) when closing.
func (f *forwarder) track(a, b net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		a.Close()
		b.Close()
		return false
	}
	f.conns[a], f.conns[b] = true, true
	return true
}

// pipe copies src to dst, adding the bytes to counter (if any) as they go.
func (f *forwarder) pipe(dst, src net.Conn, counter *atomic.Int64) {
	defer f.wg.Done()
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if counter != nil {
				counter.Add(int64(n))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
}

func (f *forwarder) close() {
	f.ln.Close()
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.conns = nil
	f.mu.Unlock()
	f.wg.Wait()
}

// hostPort is the host:port of an https:// URL.
func hostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// cluster2Kubeconfig is a kubeconfig for cluster-2 with the alternate
// token, pointing at server: different content, same API server.
func (s *suite) cluster2Kubeconfig(t *testing.T, server string) []byte {
	t.Helper()
	data, err := s.env.Cluster("cluster-2").Kubeconfig(kubeenv.AlternateToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
