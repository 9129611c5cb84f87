package ca

import (
	"bufio"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RootHistoryFile, in the CA directory, lists every signing root the
// directory has held, oldest first, one line each: fingerprint, the time
// it was recorded, and the root's subject. It is public data. It stays
// when the root's files are lost or moved, so LoadOrCreate can tell "a
// brand-new install" (create a root) from "the root is gone" (refuse).
const RootHistoryFile = "root-history"

// Fingerprint is the SHA-256 of a certificate's DER, as upper-case hex
// pairs separated by colons: the form `openssl x509 -noout -fingerprint
// -sha256` prints, so operators can compare the two by eye.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// NormalizeFingerprint accepts a SHA-256 fingerprint with or without
// colons, in either case, optionally prefixed "sha256:" or "SHA256
// Fingerprint=" (openssl's output), and returns it in Fingerprint's form.
func NormalizeFingerprint(s string) (string, error) {
	h := strings.ToUpper(strings.TrimSpace(s))
	for _, prefix := range []string{"SHA256 FINGERPRINT=", "SHA256:"} {
		h = strings.TrimPrefix(h, prefix)
	}
	h = strings.ReplaceAll(h, ":", "")
	if len(h) != 2*sha256.Size || strings.Trim(h, "0123456789ABCDEF") != "" {
		return "", fmt.Errorf("%q is not a SHA-256 fingerprint (64 hex digits, colons optional)", s)
	}
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String(), nil
}

// RecordedRoot is evidence, from outside the CA directory, that a root was
// in use: for example the root serve published in Kubernetes.
type RecordedRoot struct {
	Fingerprint string
	// Where names the record, for error messages ("ConfigMap ns/name").
	Where string
}

// PreviousRootError refuses a root (a new one, or a loaded one) that does
// not continue the root recorded before: every proxy holding credentials
// of the old root would fail the TLS handshake with the control plane.
type PreviousRootError struct {
	Dir string
	// Found says what the CA directory or the records hold.
	Found string
	// Created is true when the directory has no root and one would be created.
	Created bool
}

func (e *PreviousRootError) Error() string {
	if e.Created {
		return fmt.Sprintf("ca: %s has no root (%s, %s), but %s; refusing to create a new root that proxies do not trust",
			e.Dir, RootCertFile, RootKeyFile, e.Found)
	}
	return fmt.Sprintf("ca: the root in %s does not continue the recorded one: %s; refusing a root that proxies do not trust "+
		"(to rotate roots, keep the old root in %s until every proxy has new credentials)", e.Dir, e.Found, TrustBundleFile)
}

// history is the fingerprints in dir's RootHistoryFile, oldest first.
func readHistory(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, RootHistoryFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	defer f.Close()
	var fps []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 0 && !strings.HasPrefix(fields[0], "#") {
			fps = append(fps, fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ca: %s: %w", f.Name(), err)
	}
	return fps, nil
}

// appendHistory records root as dir's latest root unless it already is.
func appendHistory(dir string, history []string, root *x509.Certificate) error {
	fp := Fingerprint(root)
	if len(history) > 0 && history[len(history)-1] == fp {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, RootHistoryFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("ca: record the root: %w", err)
	}
	if len(history) == 0 {
		fmt.Fprintf(f, "# Signing roots this directory has held, oldest first (written by causeway serve; public data, keep it)\n")
	}
	_, err = fmt.Fprintf(f, "%s %s %s\n", fp, time.Now().UTC().Format(time.RFC3339), strings.ReplaceAll(root.Subject.String(), " ", "_"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("ca: record the root: %w", err)
	}
	return nil
}

// earlierRootEvidence says why dir (without a root) must have had one, or
// "" for a brand-new install: a root history, a trust bundle (only written
// next to a root), or a record from outside the directory.
func earlierRootEvidence(dir string, history []string, recorded []RecordedRoot) string {
	var found []string
	if len(history) > 0 {
		found = append(found, fmt.Sprintf("%s records root %s", filepath.Join(dir, RootHistoryFile), history[len(history)-1]))
	}
	if _, err := os.Stat(filepath.Join(dir, TrustBundleFile)); err == nil {
		found = append(found, filepath.Join(dir, TrustBundleFile)+" exists (it is only kept next to a root)")
	}
	for _, r := range recorded {
		found = append(found, fmt.Sprintf("%s records root %s", r.Where, r.Fingerprint))
	}
	return strings.Join(found, "; ")
}

// checkContinues returns a PreviousRootError unless the latest recorded
// root (the directory's history and each outside record) is among c's
// roots: the signing root or, during a rotation, the trust bundle.
func checkContinues(c *CA, dir string, history []string, recorded []RecordedRoot) error {
	trusted := map[string]bool{}
	for _, r := range c.roots {
		trusted[Fingerprint(r)] = true
	}
	var found []string
	if len(history) > 0 && !trusted[history[len(history)-1]] {
		found = append(found, fmt.Sprintf("%s records root %s", filepath.Join(dir, RootHistoryFile), history[len(history)-1]))
	}
	for _, r := range recorded {
		if !trusted[r.Fingerprint] {
			found = append(found, fmt.Sprintf("%s records root %s", r.Where, r.Fingerprint))
		}
	}
	if len(found) == 0 {
		return nil
	}
	return &PreviousRootError{Dir: dir, Found: fmt.Sprintf("the signing root is %s and %s, which is neither the signing root nor in the trust bundle",
		Fingerprint(c.root), strings.Join(found, "; "))}
}

// TrustsRoot reports whether the root with fingerprint (Fingerprint's
// form) is the signing root or in the trust bundle.
func (c *CA) TrustsRoot(fingerprint string) bool {
	for _, r := range c.roots {
		if Fingerprint(r) == fingerprint {
			return true
		}
	}
	return false
}
