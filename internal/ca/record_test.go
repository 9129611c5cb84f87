package ca

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustLoad(t *testing.T, dir string, opts ...Option) *CA {
	t.Helper()
	c, err := LoadOrCreate(dir, "causeway.local", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantPreviousRoot checks err refuses a root and names every fragment.
func wantPreviousRoot(t *testing.T, what string, err error, fragments ...string) {
	t.Helper()
	var pe *PreviousRootError
	if !errors.As(err, &pe) {
		t.Fatalf("%s: err = %v, want a PreviousRootError", what, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%s: error %q does not name %q", what, err, f)
		}
	}
}

func removeRoot(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{RootCertFile, RootKeyFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNoNewRootAfterLoss: a directory whose root files are gone (but whose
// history says it had one) is refused instead of silently getting a new
// root; AllowNewRoot overrides, and the history then records both roots.
func TestNoNewRootAfterLoss(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	first := mustLoad(t, dir)
	if !first.Created() {
		t.Error("first start on an empty directory: Created() = false")
	}
	again := mustLoad(t, dir)
	if again.Created() || again.RootFingerprint() != first.RootFingerprint() {
		t.Errorf("restart: Created() = %v, fingerprint %s; want false, %s", again.Created(), again.RootFingerprint(), first.RootFingerprint())
	}

	removeRoot(t, dir)
	_, err := LoadOrCreate(dir, "causeway.local")
	wantPreviousRoot(t, "root files lost", err, dir, RootHistoryFile, first.RootFingerprint())
	if _, statErr := os.Stat(filepath.Join(dir, RootCertFile)); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("the refused load left %s behind (%v)", RootCertFile, statErr)
	}

	replaced := mustLoad(t, dir, AllowNewRoot())
	if !replaced.Created() || replaced.RootFingerprint() == first.RootFingerprint() {
		t.Errorf("AllowNewRoot: Created() = %v, same root %v; want a new root", replaced.Created(), replaced.RootFingerprint() == first.RootFingerprint())
	}
	history, err := readHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{first.RootFingerprint(), replaced.RootFingerprint()}; strings.Join(history, ",") != strings.Join(want, ",") {
		t.Errorf("history = %v, want %v", history, want)
	}
	// The replacement is now the recorded root: no flag needed to restart.
	if c := mustLoad(t, dir); c.RootFingerprint() != replaced.RootFingerprint() {
		t.Error("restart after the replacement loaded another root")
	}
}

// TestNoNewRootBesideTrustBundle: a trust bundle is only kept next to a
// root, so a directory holding one but no root lost its root.
func TestNoNewRootBesideTrustBundle(t *testing.T) {
	other := mustLoad(t, t.TempDir())
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, TrustBundleFile), other.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreate(dir, "causeway.local")
	wantPreviousRoot(t, "trust bundle without root", err, TrustBundleFile)
}

// TestRecordedRoots: a record kept outside the directory (e.g. in
// Kubernetes) stops a new root in an empty directory and a different root
// in another one, and accepts a root rotation that keeps it in the bundle.
func TestRecordedRoots(t *testing.T) {
	a := mustLoad(t, filepath.Join(t.TempDir(), "a"))
	rec := RecordedRoot{Fingerprint: a.RootFingerprint(), Where: "ConfigMap causeway-system/causeway-ca-root"}

	_, err := LoadOrCreate(filepath.Join(t.TempDir(), "empty"), "causeway.local", WithRecordedRoots(rec))
	wantPreviousRoot(t, "empty directory, recorded root", err, rec.Where, rec.Fingerprint)

	bDir := filepath.Join(t.TempDir(), "b")
	b := mustLoad(t, bDir)
	_, err = LoadOrCreate(bDir, "causeway.local", WithRecordedRoots(rec))
	wantPreviousRoot(t, "another root, recorded root", err, rec.Where, rec.Fingerprint, b.RootFingerprint())

	// Rotation step 2: B signs, A stays in the bundle.
	if err := os.WriteFile(filepath.Join(bDir, TrustBundleFile), a.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := mustLoad(t, bDir, WithRecordedRoots(rec)); c.RootFingerprint() != b.RootFingerprint() {
		t.Error("rotation with the recorded root in the bundle: wrong signing root")
	}
	if c := mustLoad(t, filepath.Join(t.TempDir(), "a2"), WithRecordedRoots(rec), AllowNewRoot()); !c.Created() {
		t.Error("AllowNewRoot with a recorded root: no root created")
	}
}

// TestReplacedRootRefused: copying another installation's root into a
// directory with a history is a mix-up unless the old root stays trusted.
func TestReplacedRootRefused(t *testing.T) {
	dir, otherDir := t.TempDir(), t.TempDir()
	a, b := mustLoad(t, dir), mustLoad(t, otherDir)
	for _, f := range []string{RootCertFile, RootKeyFile} {
		if err := os.WriteFile(filepath.Join(dir, f), mustRead(t, filepath.Join(otherDir, f)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := LoadOrCreate(dir, "causeway.local")
	wantPreviousRoot(t, "replaced root", err, a.RootFingerprint(), b.RootFingerprint(), TrustBundleFile)
	if err := os.WriteFile(filepath.Join(dir, TrustBundleFile), a.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, dir)
}

func TestNormalizeFingerprint(t *testing.T) {
	c := mustLoad(t, t.TempDir())
	fp := c.RootFingerprint()
	bare := strings.ReplaceAll(fp, ":", "")
	for _, in := range []string{fp, strings.ToLower(fp), bare, "sha256:" + strings.ToLower(bare), "SHA256 Fingerprint=" + fp, " " + fp + "\n"} {
		if got, err := NormalizeFingerprint(in); err != nil || got != fp {
			t.Errorf("NormalizeFingerprint(%q) = %q, %v; want %q", in, got, err, fp)
		}
	}
	for _, in := range []string{"", "AB:CD", bare[:62] + "ZZ", bare + "00"} {
		if _, err := NormalizeFingerprint(in); err == nil {
			t.Errorf("NormalizeFingerprint(%q) accepted", in)
		}
	}
}
