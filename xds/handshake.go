package xds

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/credentials"
)

// Reasons of causeway_xds_tls_handshake_failures_total: a fixed set, so a
// client cannot grow the metric.
const (
	// handshakeUnknownAuthority: the proxy does not trust serve's root (it
	// sent the alert), or its client certificate is from a root serve does
	// not trust. The signature of a CA mix-up (a new root in --ca-dir).
	handshakeUnknownAuthority = "unknown_authority"
	handshakeExpired          = "expired"
	// handshakeBadCertificate: any other certificate refusal, by either side.
	handshakeBadCertificate = "bad_certificate"
	// handshakeNotTLS: the client spoke something else, e.g. plaintext gRPC
	// from a bootstrap made with --xds-insecure.
	handshakeNotTLS = "not_tls"
	handshakeOther  = "other"
)

var handshakeReasons = []string{handshakeUnknownAuthority, handshakeExpired, handshakeBadCertificate, handshakeNotTLS, handshakeOther}

// handshakeHints tell the operator what a reason usually means.
var handshakeHints = map[string]string{
	handshakeUnknownAuthority: "the proxy and serve do not share a CA root: compare the root serve logged at start (--ca-dir) with the proxy's --xds-ca and client certificate",
	handshakeExpired:          "a certificate has expired: re-issue the proxy's xDS client certificate (causeway certs issue) or check the clocks",
	handshakeBadCertificate:   "a certificate was refused: check the proxy's --xds-server-name against serve's --xds-server-name, and its client certificate",
	handshakeNotTLS:           "the client does not speak TLS: was its bootstrap made with --xds-insecure?",
	handshakeOther:            "",
}

// handshakeLogInterval bounds the log to one line per interval however
// many handshakes fail; the metric counts every one.
const handshakeLogInterval = 10 * time.Second

// handshakeReporter counts failed TLS handshakes by reason and logs them,
// the first at once and then at most one line per interval with the
// number of failures left out since the last line.
type handshakeReporter struct {
	failures *prometheus.CounterVec
	log      *slog.Logger
	limit    *logLimiter
}

func newHandshakeReporter(failures *prometheus.CounterVec, log *slog.Logger) *handshakeReporter {
	return &handshakeReporter{failures: failures, log: log, limit: newLogLimiter(1, handshakeLogInterval)}
}

func (r *handshakeReporter) report(peer net.Addr, err error) {
	reason, ok := handshakeFailureReason(err)
	if !ok {
		return
	}
	r.failures.WithLabelValues(reason).Inc()
	ok, suppressed := r.limit.allow()
	if !ok {
		return
	}
	// x509 errors quote names from the client's certificate: clipped.
	attrs := []any{"peer", peer.String(), "reason", reason, "error", clip(err.Error()),
		"suppressedSinceLastLog", suppressed, "metric", "causeway_xds_tls_handshake_failures_total"}
	if h := handshakeHints[reason]; h != "" {
		attrs = append(attrs, "hint", h)
	}
	r.log.Warn("xDS TLS handshake failed (logged at most once per "+handshakeLogInterval.String()+")", attrs...)
}

// handshakeFailureReason classifies a server-side handshake error. ok is
// false for a connection closed before it said anything (a TCP health
// check or port probe): not a proxy, nothing to report.
func handshakeFailureReason(err error) (reason string, ok bool) {
	if errors.Is(err, io.EOF) {
		return "", false
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		var unknown x509.UnknownAuthorityError
		var invalid x509.CertificateInvalidError
		switch {
		case errors.As(verr.Err, &unknown):
			return handshakeUnknownAuthority, true
		case errors.As(verr.Err, &invalid) && invalid.Reason == x509.Expired:
			return handshakeExpired, true
		}
		return handshakeBadCertificate, true
	}
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return handshakeNotTLS, true
	}
	// The proxy refused serve's certificate: Go reports its alert as
	// net.OpError{Op: "remote error"} with an unexported alert type, so
	// the alert is known by its text.
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		switch alert := op.Err.Error(); {
		case strings.Contains(alert, "unknown certificate authority"):
			return handshakeUnknownAuthority, true
		case strings.Contains(alert, "expired certificate"):
			return handshakeExpired, true
		case strings.Contains(alert, "certificate"): // bad, unknown, unsupported, revoked
			return handshakeBadCertificate, true
		}
	}
	return handshakeOther, true
}

// reportingCreds reports the server handshakes that fail; everything else
// is the wrapped credentials'.
type reportingCreds struct {
	credentials.TransportCredentials
	r *handshakeReporter
}

func (c reportingCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		c.r.report(raw.RemoteAddr(), err)
	}
	return conn, info, err
}

func (c reportingCreds) Clone() credentials.TransportCredentials {
	return reportingCreds{TransportCredentials: c.TransportCredentials.Clone(), r: c.r}
}

// reportHandshakes wraps the xDS server's TLS credentials to report
// handshakes that fail.
func (s *Server) reportHandshakes(tc credentials.TransportCredentials) credentials.TransportCredentials {
	return reportingCreds{TransportCredentials: tc, r: newHandshakeReporter(s.metrics.tlsHandshakeFailures, s.log)}
}
