package ca

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parseCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("no PEM block in %q", b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fingerprint(t *testing.T, c *CA) [32]byte {
	return sha256.Sum256(parseCert(t, c.RootPEM()).Raw)
}

func TestRestartKeepsRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	first, err := LoadOrCreate(dir, "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadOrCreate(dir, "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(t, first) != fingerprint(t, second) {
		t.Fatal("root changed across LoadOrCreate calls on the same directory")
	}
	other, err := LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(t, first) == fingerprint(t, other) {
		t.Fatal("two directories produced the same root")
	}
	// A leaf issued before the restart still verifies against the reloaded root.
	certPEM, _, _, err := first.Issue(first.SpiffeID("gateway", "cluster-1"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, second, certPEM)
}

func TestRootProperties(t *testing.T) {
	c, err := LoadOrCreate(t.TempDir(), "example.org")
	if err != nil {
		t.Fatal(err)
	}
	root := parseCert(t, c.RootPEM())
	if !root.IsCA {
		t.Error("root is not a CA")
	}
	if len(root.URIs) != 1 || root.URIs[0].String() != "spiffe://example.org" {
		t.Errorf("root URIs = %v, want [spiffe://example.org]", root.URIs)
	}
	if life := root.NotAfter.Sub(root.NotBefore); life < 10*365*24*time.Hour {
		t.Errorf("root lifetime %v, want >= 10 years", life)
	}
	if c.TrustDomain() != "example.org" {
		t.Errorf("TrustDomain() = %q", c.TrustDomain())
	}
}

func TestKeyFilePermissions(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir, "causeway.local"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, RootKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("%s mode = %v, want 0600", RootKeyFile, got)
	}
	if _, err := os.Stat(filepath.Join(dir, RootCertFile)); err != nil {
		t.Error(err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("dir holds %d entries, want 3 (%s, %s, %s)", len(entries), RootCertFile, RootKeyFile, RootHistoryFile)
	}
}

func verify(t *testing.T, c *CA, certPEM []byte) *x509.Certificate {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.RootPEM()) {
		t.Fatal("root PEM not parseable")
	}
	leaf := parseCert(t, certPEM)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Fatalf("verify for usage %v: %v", usage, err)
		}
	}
	return leaf
}

func TestIssue(t *testing.T) {
	c, err := LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	id := c.SpiffeID("eastwest", "cluster-2")
	if want := "spiffe://causeway.local/cluster/cluster-2/ns/causeway-system/sa/causeway-eastwest"; id != want {
		t.Fatalf("SpiffeID = %q, want %q", id, want)
	}
	certPEM, keyPEM, notAfter, err := c.Issue(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	leaf := verify(t, c, certPEM)
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != id {
		t.Errorf("leaf URIs = %v, want [%s]", leaf.URIs, id)
	}
	if leaf.IsCA {
		t.Error("leaf is a CA")
	}
	if !leaf.NotAfter.Equal(notAfter) {
		t.Errorf("notAfter %v, certificate says %v", notAfter, leaf.NotAfter)
	}
	if d := time.Until(notAfter); d < 23*time.Hour || d > 24*time.Hour {
		t.Errorf("default TTL gives %v left, want ~24h", d)
	}
	// The key belongs to the certificate.
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("key pair: %v", err)
	}
	// A second issue has a fresh key.
	_, keyPEM2, _, err := c.Issue(id, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(keyPEM, keyPEM2) {
		t.Error("two issues share a key")
	}
}

func TestIssueRejectsForeignIDs(t *testing.T) {
	c, err := LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"spiffe://other.domain/x", "https://causeway.local/x", "spiffe://causeway.local", "::"} {
		if _, _, _, err := c.Issue(id, time.Hour); err == nil {
			t.Errorf("Issue(%q) succeeded", id)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir, "causeway.local"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir, "other.domain"); err == nil || !strings.Contains(err.Error(), "trust domain") {
		t.Errorf("loading with another trust domain: err = %v", err)
	}
	if err := os.Remove(filepath.Join(dir, RootKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(dir, "causeway.local"); err == nil {
		t.Error("loading a cert without its key succeeded (would silently replace the root)")
	}
	if _, err := LoadOrCreate(t.TempDir(), ""); err == nil {
		t.Error("empty trust domain accepted")
	}
}
