package xds

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
)

func (h *harness) handshakeFailures(reason string) float64 {
	return h.metric("causeway_xds_tls_handshake_failures_total", map[string]string{"reason": reason})
}

// handshake runs one raw TLS handshake against the harness (and a read,
// so a TLS 1.3 client learns of the server's alert); it returns the
// client's error.
func (h *harness) handshake(cfg *tls.Config) error {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: waitFor}, "tcp", h.addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitFor))
	_, err = conn.Read(make([]byte, 1))
	return err
}

// TestHandshakeFailuresAreReported: the two sides of a CA mix-up — a proxy
// whose client certificate is from a root serve does not trust, and a
// proxy that does not trust serve's root (serve got a new root) — and a
// plaintext client are counted by reason and logged with the peer; a bare
// TCP connect-and-close (a health check) is not.
func TestHandshakeFailuresAreReported(t *testing.T) {
	h := start(t, Options{})
	other, err := ca.LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	trustsServe, trustsOther := x509.NewCertPool(), x509.NewCertPool()
	trustsServe.AppendCertsFromPEM(h.ca.RootPEM())
	trustsOther.AppendCertsFromPEM(other.RootPEM())
	foreignCert := issueClient(t, other, model.RoleGateway, "cluster-1")

	for _, r := range handshakeReasons {
		if v := h.handshakeFailures(r); v != 0 {
			t.Errorf("before any client: failures{%s} = %v, want 0", r, v)
		}
	}
	// Client certificate from another root.
	if err := h.handshake(&tls.Config{RootCAs: trustsServe, ServerName: "localhost", Certificates: []tls.Certificate{foreignCert}, NextProtos: []string{"h2"}}); err == nil {
		t.Fatal("a client certificate from another root completed a handshake and a read")
	}
	eventually(t, "failures{unknown_authority} = 1 (client certificate)", func() bool { return h.handshakeFailures(handshakeUnknownAuthority) == 1 })
	if log := h.log.String(); !strings.Contains(log, "xDS TLS handshake failed") || !strings.Contains(log, "reason=unknown_authority") ||
		!strings.Contains(log, "peer=127.0.0.1:") {
		t.Errorf("log lacks the handshake failure with reason and peer:\n%s", log)
	}

	// The proxy does not trust serve's root: it refuses serve's certificate.
	// Go's client sends bad_certificate (BoringSSL in Envoy: unknown_ca).
	if err := h.handshake(&tls.Config{RootCAs: trustsOther, ServerName: "localhost", Certificates: []tls.Certificate{foreignCert}, NextProtos: []string{"h2"}}); err == nil {
		t.Fatal("a client trusting another root accepted serve's certificate")
	}
	eventually(t, "failures{bad_certificate} = 1 (serve's certificate refused)", func() bool { return h.handshakeFailures(handshakeBadCertificate) == 1 })

	// Plaintext, and a bare connect-and-close.
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	_, _ = conn.Read(make([]byte, 64))
	conn.Close()
	eventually(t, "failures{not_tls} = 1", func() bool { return h.handshakeFailures(handshakeNotTLS) == 1 })
	if conn, err = net.Dial("tcp", h.addr); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	// A good client afterwards: the bare close was handled (and not counted) by then.
	if err := h.handshake(&tls.Config{RootCAs: trustsServe, ServerName: "localhost", Certificates: []tls.Certificate{issueClient(t, h.ca, model.RoleGateway, "cluster-1")},
		NextProtos: []string{"h2"}}); err != nil && !isTimeout(err) {
		// The server sends its HTTP/2 settings, so the read succeeds.
		t.Errorf("a good client failed: %v", err)
	}
	time.Sleep(quietFor)
	if v := h.handshakeFailures(handshakeOther); v != 0 {
		t.Errorf("failures{other} = %v after a bare TCP connect-and-close, want 0 (health checks are not proxies)", v)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestHandshakeFailureLogIsBounded: a storm of 1,000 failed handshakes is
// counted in full but logged once per interval, with the count left out.
func TestHandshakeFailureLogIsBounded(t *testing.T) {
	h := start(t, Options{})
	other, err := ca.LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(h.ca.RootPEM())
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: []tls.Certificate{issueClient(t, other, model.RoleGateway, "cluster-1")}, NextProtos: []string{"h2"}}
	const storm, workers = 1000, 8
	start := time.Now()
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				_ = h.handshake(cfg)
			}
		}()
	}
	for i := range storm {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	eventually(t, "all 1,000 failures counted", func() bool { return h.handshakeFailures(handshakeUnknownAuthority) == storm })
	elapsed := time.Since(start)
	lines := strings.Count(h.log.String(), "xDS TLS handshake failed")
	// The first failure, then one line per started interval at most.
	if limit := 1 + int(elapsed/handshakeLogInterval) + 1; lines < 1 || lines > limit {
		t.Errorf("%d failed handshakes in %v logged %d lines, want 1..%d", storm, elapsed.Round(time.Millisecond), lines, limit)
	}
	t.Logf("%d failed handshakes in %v: %d log lines", storm, elapsed.Round(time.Millisecond), lines)
}

// TestHandshakeReporterSuppressedCount: after the interval, the next line
// says how many failures were left out.
func TestHandshakeReporterSuppressedCount(t *testing.T) {
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf syncBuffer
	r := newHandshakeReporter(m.tlsHandshakeFailures, slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Unix(1000, 0)
	r.limit.now = func() time.Time { return now }
	peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}
	fail := tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}
	for range 5 {
		r.report(peer, fail)
	}
	now = now.Add(handshakeLogInterval)
	r.report(peer, fail)
	log := buf.String()
	if n := strings.Count(log, "xDS TLS handshake failed"); n != 2 {
		t.Fatalf("6 failures over one interval logged %d lines, want 2:\n%s", n, log)
	}
	if !strings.Contains(log, "suppressedSinceLastLog=4") || !strings.Contains(log, "peer=127.0.0.1:4242") || !strings.Contains(log, "reason=not_tls") {
		t.Errorf("log lacks the suppressed count, peer or reason:\n%s", log)
	}
}
