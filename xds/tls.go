package xds

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
)

// servingCert is the xDS server's certificate, issued by the CA on first
// use and re-issued once half its lifetime has passed, so a long-running
// server never presents an expired certificate. Connections pick up the
// new one at their next handshake.
type servingCert struct {
	ca    *ca.CA
	names []string
	ips   []net.IP
	ttl   time.Duration
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	renewAt time.Time
}

// get is tls.Config.GetCertificate. If renewal fails while the current
// certificate is still valid, it keeps serving that one and logs the error.
func (sc *servingCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	now := sc.now()
	if sc.cert != nil && now.Before(sc.renewAt) {
		return sc.cert, nil
	}
	certPEM, keyPEM, notAfter, err := sc.ca.IssueServing(sc.names, sc.ips, sc.ttl)
	if err == nil {
		var c tls.Certificate
		if c, err = tls.X509KeyPair(certPEM, keyPEM); err == nil && c.Leaf == nil {
			c.Leaf, err = x509.ParseCertificate(c.Certificate[0])
		}
		if err == nil {
			sc.cert = &c
			sc.renewAt = now.Add(notAfter.Sub(now) / 2)
			sc.log.Info("xDS serving certificate issued", "dnsNames", sc.names, "ips", sc.ips, "notAfter", notAfter)
			return sc.cert, nil
		}
	}
	if sc.cert != nil && now.Before(sc.cert.Leaf.NotAfter) {
		sc.log.Error("renewing the xDS serving certificate failed; serving the current one", "error", err, "notAfter", sc.cert.Leaf.NotAfter)
		return sc.cert, nil
	}
	return nil, fmt.Errorf("xds: serving certificate: %w", err)
}

// tlsConfig is the xDS server's TLS configuration: a serving certificate
// from the CA, and client certificates verified against the trust roots
// when given (VerifyClientCertIfGiven, so token-only proxies can connect;
// the stream interceptor refuses streams with neither credential).
func (s *Server) tlsConfig(addr net.Addr) (*tls.Config, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(trustRootsPEM(s.ca)) {
		return nil, errors.New("xds: no trust roots in the CA")
	}
	sc := &servingCert{ca: s.ca, names: s.serverNames, ips: listenIPs(addr), ttl: s.certTTL, log: s.log, now: time.Now}
	if _, err := sc.get(nil); err != nil { // fail at start, not at the first handshake
		return nil, err
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: sc.get,
		ClientAuth:     tls.VerifyClientCertIfGiven,
		ClientCAs:      roots,
	}, nil
}

// trustRootsPEM are the roots client certificates must chain to.
func trustRootsPEM(c *ca.CA) []byte { return c.RootsPEM() }

// listenIPs are the IP SANs for a listener: its address, or every local
// interface address when it listens on all of them.
func listenIPs(addr net.Addr) []net.IP {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP == nil {
		return nil
	}
	if !tcp.IP.IsUnspecified() {
		return []net.IP{tcp.IP}
	}
	var ips []net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ips = append(ips, n.IP)
		}
	}
	return ips
}
