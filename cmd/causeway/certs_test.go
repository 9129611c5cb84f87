package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
)

func newTestCA(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := ca.LoadOrCreate(dir, "causeway.local"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertsIssue(t *testing.T) {
	caDir := newTestCA(t)
	out := filepath.Join(t.TempDir(), "ew2")
	code, stdout, errOut := causeway(t, "certs", "issue", "--ca-dir", caDir, "--role", "eastwest", "--cluster", "cluster-2",
		"--out", out, "--ttl", "2h")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const id = "spiffe://causeway.local/cluster/cluster-2/ns/causeway-system/sa/causeway-eastwest"
	for _, want := range []string{"issued " + id, "--xds-cert " + filepath.Join(out, "cert.pem"), "--xds-key " + filepath.Join(out, "key.pem"), "--xds-ca " + filepath.Join(out, "ca.pem")} {
		if !strings.Contains(strings.Join(strings.Fields(stdout), " "), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	fi, err := os.Stat(filepath.Join(out, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key.pem mode %v, want 0600", fi.Mode().Perm())
	}
	cert := readCert(t, filepath.Join(out, "cert.pem"))
	if len(cert.URIs) != 1 || cert.URIs[0].String() != id {
		t.Errorf("URI SANs %v, want [%s]", cert.URIs, id)
	}
	if left := time.Until(cert.NotAfter); left > 2*time.Hour || left < 110*time.Minute {
		t.Errorf("expires in %v, want --ttl 2h", left)
	}
	// ca.pem verifies the certificate for client authentication, as the
	// xDS server does.
	roots := x509.NewCertPool()
	rootsPEM, err := os.ReadFile(filepath.Join(out, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !roots.AppendCertsFromPEM(rootsPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("certificate does not verify against ca.pem: %v", err)
	}
	if code, _, errOut := causeway(t, "bootstrap", "--role", "eastwest", "--cluster", "cluster-2", "--xds-ca", filepath.Join(out, "ca.pem"),
		"--xds-cert", filepath.Join(out, "cert.pem"), "--xds-key", filepath.Join(out, "key.pem")); code != 0 {
		t.Errorf("bootstrap with the issued files: exit %d: %s", code, errOut)
	}
}

func TestCertsIssueRefuses(t *testing.T) {
	caDir := newTestCA(t)
	noCA := filepath.Join(t.TempDir(), "empty")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no root in ca-dir", []string{"--ca-dir", noCA, "--cluster", "c1"}, "has no root.pem: start causeway serve with this --ca-dir first"},
		{"bad role", []string{"--ca-dir", caDir, "--cluster", "c1", "--role", "workload"}, `--role: "workload" is not a role; use gateway, eastwest or client`},
		{"cluster with a slash", []string{"--ca-dir", caDir, "--cluster", "c1/ns/x"}, `--cluster "c1/ns/x" cannot be part of a proxy identity`},
		{"no cluster", []string{"--ca-dir", caDir, "--cluster", ""}, "cluster is required"},
		{"zero ttl", []string{"--ca-dir", caDir, "--cluster", "c1", "--ttl", "0s"}, "--ttl 0s"},
		{"other trust domain", []string{"--ca-dir", caDir, "--cluster", "c1", "--trust-domain", "other.org"}, `not trust domain "other.org"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, errOut := causeway(t, append([]string{"certs", "issue", "--out", out}, tc.args...)...)
			if code == 0 || stdout != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want failure containing %q", code, stdout, errOut, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("wrote %s despite the error", out)
			}
		})
	}
	// No root was created where there was none: it would sign
	// certificates no server trusts.
	if _, err := os.Stat(noCA); err == nil {
		t.Errorf("certs issue created %s", noCA)
	}
}

// TestCertsIssueClient: a client proxy's credential names role client, and
// a client bootstrap takes it.
func TestCertsIssueClient(t *testing.T) {
	caDir := newTestCA(t)
	out := filepath.Join(t.TempDir(), "client1")
	code, stdout, errOut := causeway(t, "certs", "issue", "--ca-dir", caDir, "--role", "client", "--cluster", "cluster-1", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const id = "spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-client"
	if cert := readCert(t, filepath.Join(out, "cert.pem")); len(cert.URIs) != 1 || cert.URIs[0].String() != id || !strings.Contains(stdout, "issued "+id) {
		t.Errorf("URI SANs %v, output %q: want %s", cert.URIs, stdout, id)
	}
	if code, _, errOut := causeway(t, "bootstrap", "--role", "client", "--cluster", "cluster-1", "--bind-address", "127.0.90.1",
		"--xds-ca", filepath.Join(out, "ca.pem"), "--xds-cert", filepath.Join(out, "cert.pem"), "--xds-key", filepath.Join(out, "key.pem")); code != 0 {
		t.Errorf("bootstrap with the issued files: exit %d: %s", code, errOut)
	}
}
