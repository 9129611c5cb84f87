package ca

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pemCerts decodes every certificate in b.
func pemCerts(t *testing.T, b []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

func verifies(c *CA, certPEM []byte) error {
	blk, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: c.RootPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err
}

// TestTrustBundleRotation walks the root rotation procedure: the new root
// signs while the old one stays in trust-bundle.pem, so leaves of both
// verify; once the old root leaves the bundle its leaves no longer do.
func TestTrustBundleRotation(t *testing.T) {
	oldDir, newDir := t.TempDir(), t.TempDir()
	oldCA, err := LoadOrCreate(oldDir, "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	if got := pemCerts(t, oldCA.RootsPEM()); len(got) != 1 || !bytes.Equal(got[0].Raw, parseCert(t, oldCA.RootPEM()).Raw) {
		t.Fatalf("without a bundle RootsPEM holds %d certificates, want just the root", len(got))
	}
	oldLeaf, _, _, err := oldCA.Issue(oldCA.SpiffeID("gateway", "cluster-1"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(newDir, "causeway.local"); err != nil {
		t.Fatal(err)
	}
	// Old root in the bundle, twice (and the signing root once): each once.
	bundle := append(append(oldCA.RootPEM(), oldCA.RootPEM()...), mustRead(t, filepath.Join(newDir, RootCertFile))...)
	if err := os.WriteFile(filepath.Join(newDir, TrustBundleFile), bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	overlap, err := LoadOrCreate(newDir, "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	roots := pemCerts(t, overlap.RootsPEM())
	if len(roots) != 2 || !bytes.Equal(roots[0].Raw, parseCert(t, overlap.RootPEM()).Raw) {
		t.Fatalf("RootsPEM holds %d certificates, want the signing root first and the old root once (2)", len(roots))
	}
	newLeaf, _, _, err := overlap.Issue(overlap.SpiffeID("gateway", "cluster-1"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifies(overlap, oldLeaf); err != nil {
		t.Errorf("during the overlap an old-root leaf does not verify: %v", err)
	}
	if err := verifies(overlap, newLeaf); err != nil {
		t.Errorf("new-root leaf does not verify: %v", err)
	}

	if err := os.Remove(filepath.Join(newDir, TrustBundleFile)); err != nil {
		t.Fatal(err)
	}
	after, err := LoadOrCreate(newDir, "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	if err := verifies(after, oldLeaf); err == nil {
		t.Error("after the old root left the bundle, its leaf still verifies")
	}
	if err := verifies(after, newLeaf); err != nil {
		t.Errorf("new-root leaf does not verify after the rotation: %v", err)
	}

	// The explicit option works the same way, without the file in the dir.
	explicit := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(explicit, oldCA.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	withOpt, err := LoadOrCreate(newDir, "causeway.local", WithTrustBundle(explicit))
	if err != nil {
		t.Fatal(err)
	}
	if err := verifies(withOpt, oldLeaf); err != nil {
		t.Errorf("WithTrustBundle: old-root leaf does not verify: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTrustBundleErrors(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadOrCreate(dir, "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	leaf, key, _, err := c.Issue(c.SpiffeID("gateway", "cluster-1"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{"leaf", string(leaf), "is not a CA certificate"},
		{"key", string(key), `is "EC PRIVATE KEY", want CERTIFICATE`},
		{"empty", "nothing here\n", "holds no CERTIFICATE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bundle.pem")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreate(dir, "causeway.local", WithTrustBundle(path))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want %q naming %s", err, tc.want, path)
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	if _, err := LoadOrCreate(dir, "causeway.local", WithTrustBundle(missing)); err == nil {
		t.Errorf("a missing explicit bundle %s was accepted", missing)
	}
}

func TestIssueWithValidity(t *testing.T) {
	c, err := LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	nb, na := time.Now().Add(-2*time.Hour).Truncate(time.Second), time.Now().Add(-time.Hour).Truncate(time.Second)
	certPEM, _, err := c.IssueWithValidity(c.SpiffeID("gateway", "cluster-1"), nb, na)
	if err != nil {
		t.Fatal(err)
	}
	leaf := parseCert(t, certPEM)
	if !leaf.NotBefore.Equal(nb) || !leaf.NotAfter.Equal(na) {
		t.Errorf("validity %v..%v, want %v..%v", leaf.NotBefore, leaf.NotAfter, nb, na)
	}
	if err := verifies(c, certPEM); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired leaf verify err = %v, want expired", err)
	}
	if _, _, err := c.IssueWithValidity(c.SpiffeID("gateway", "cluster-1"), na, nb); err == nil {
		t.Error("notAfter before notBefore accepted")
	}
	if _, _, err := c.IssueWithValidity("spiffe://other.domain/x", nb, na); err == nil {
		t.Error("foreign trust domain accepted")
	}
}
