package e2eutil

import (
	"crypto/tls"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/internal/ca"
)

// TestTrustDomain is `causeway serve`'s default --trust-domain, which the
// end-to-end tests keep.
const TestTrustDomain = "causeway.local"

// XDSServerName is the name the xDS serving certificate carries by default
// (serve --xds-server-name) and what clients verify and send as SNI.
const XDSServerName = "localhost"

// IssueProxyCert issues the xDS client certificate of a proxy with role in
// cluster the way an operator does, with `causeway certs issue` (binary
// causewayBin) from the CA in caDir, into directory out (one per Envoy:
// reissuing into a directory an Envoy is reading could hand it a
// certificate and a key that do not match). It returns the `causeway
// bootstrap` flags that use it, so the bootstrap the test starts Envoy
// with is the secure one a user would write.
func IssueProxyCert(t *testing.T, causewayBin, caDir, role, cluster, out string) []string {
	t.Helper()
	cmd := exec.Command(causewayBin, "certs", "issue", "--ca-dir", caDir, "--trust-domain", TestTrustDomain,
		"--role", role, "--cluster", cluster, "--out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("causeway certs issue --role %s --cluster %s: %v\n%s", role, cluster, err, msg)
	} else if !strings.Contains(string(msg), "issued spiffe://") {
		t.Fatalf("causeway certs issue printed no identity:\n%s", msg)
	}
	return []string{
		"--xds-ca", filepath.Join(out, "ca.pem"),
		"--xds-cert", filepath.Join(out, "cert.pem"),
		"--xds-key", filepath.Join(out, "key.pem"),
	}
}

// ProxyTLSConfig is the TLS client configuration of an in-test xDS client
// acting as the proxy with role in cluster: a client certificate issued
// by the CA in caDir (the one `causeway serve --ca-dir` uses) and the
// server verified against that CA's roots as XDSServerName.
func ProxyTLSConfig(t *testing.T, caDir, role, cluster string) *tls.Config {
	t.Helper()
	authority, err := ca.LoadOrCreate(caDir, TestTrustDomain)
	if err != nil {
		t.Fatalf("load the CA in %s: %v", caDir, err)
	}
	certPEM, keyPEM, _, err := authority.Issue(authority.SpiffeID(role, cluster), 0)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      authority.RootPool(),
		ServerName:   XDSServerName,
		MinVersion:   tls.VersionTLS12,
	}
}
