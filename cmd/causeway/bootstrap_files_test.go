package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// issueTestCredentials runs certs issue against a new CA and returns the
// directory holding ca.pem, cert.pem and key.pem.
func issueTestCredentials(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "creds")
	if code, _, errOut := causeway(t, "certs", "issue", "--ca-dir", newTestCA(t), "--role", "gateway", "--cluster", "cluster-1", "--out", out); code != 0 {
		t.Fatalf("certs issue: exit %d: %s", code, errOut)
	}
	return out
}

// TestBootstrapChecksFiles: a bootstrap naming a file Envoy could not use
// is refused, naming the flag and the path, instead of printing a config
// whose proxy never connects.
func TestBootstrapChecksFiles(t *testing.T) {
	good := issueTestCredentials(t)
	other := issueTestCredentials(t) // a second, unrelated certificate and key
	ca, cert, key := filepath.Join(good, "ca.pem"), filepath.Join(good, "cert.pem"), filepath.Join(good, "key.pem")
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	notPEM := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("eyJhbGciOi.payload.sig"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		ca, cert, key  string
		token          string
		want, wantPath string
	}{
		{"CA missing", missing, cert, key, "", "--xds-ca " + missing + " does not exist", missing},
		{"CA a directory", dir, cert, key, "", "--xds-ca " + dir + " cannot be read", dir},
		{"CA not PEM", notPEM, cert, key, "", "--xds-ca " + notPEM + " holds no PEM certificate", notPEM},
		{"CA holds a key", key, cert, key, "", "--xds-ca " + key + " holds no PEM certificate", key},
		{"cert missing", ca, missing, key, "", "--xds-cert " + missing + " does not exist", missing},
		{"key missing", ca, cert, missing, "", "--xds-key " + missing + " does not exist", missing},
		{"cert holds a key", ca, key, key, "", "--xds-cert " + key + " holds no PEM certificate", key},
		{"key holds a certificate", ca, cert, cert, "", "--xds-key " + cert + " holds no PEM private key", cert},
		{"key of another certificate", ca, cert, filepath.Join(other, "key.pem"), "", "are not a certificate and its key", cert},
		{"token missing", ca, "", "", missing, "--xds-token-file " + missing + " does not exist", missing},
		{"CA missing with a token", missing, "", "", token, "--xds-ca " + missing + " does not exist", missing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"bootstrap", "--cluster", "cluster-1", "--gateway", "web/http", "--xds-ca", tc.ca}
			if tc.cert != "" {
				args = append(args, "--xds-cert", tc.cert, "--xds-key", tc.key)
			}
			if tc.token != "" {
				args = append(args, "--xds-token-file", tc.token)
			}
			code, out, errOut := causeway(t, args...)
			if code != 1 || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, tc.wantPath) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, errOut, tc.want)
			}
		})
	}
	t.Run("good files", func(t *testing.T) {
		for _, args := range [][]string{
			{"--xds-ca", ca, "--xds-cert", cert, "--xds-key", key},
			{"--xds-ca", ca, "--xds-token-file", token},
		} {
			code, out, errOut := causeway(t, append([]string{"bootstrap", "--cluster", "cluster-1", "--gateway", "web/http"}, args...)...)
			if code != 0 || !strings.Contains(out, "filename: "+ca) {
				t.Errorf("%v: exit %d, stderr %q; want a bootstrap naming %s", args, code, errOut, ca)
			}
		}
	})
}

// TestBootstrapSkipFileChecks: a bootstrap made on one machine for an
// Envoy on another names files that exist only there; --skip-file-checks
// writes their paths unread.
func TestBootstrapSkipFileChecks(t *testing.T) {
	for _, args := range [][]string{
		{"--xds-ca", "/etc/causeway/ca.pem", "--xds-cert", "/etc/causeway/cert.pem", "--xds-key", "/etc/causeway/key.pem"},
		{"--xds-ca", "/etc/causeway/ca.pem", "--xds-token-file", "/var/run/secrets/causeway/token"},
	} {
		base := append([]string{"bootstrap", "--cluster", "cluster-1", "--gateway", "web/http"}, args...)
		if code, _, errOut := causeway(t, base...); code != 1 || !strings.Contains(errOut, "does not exist") {
			t.Errorf("%v without --skip-file-checks: exit %d, stderr %q; want a missing file reported", args, code, errOut)
		}
		code, out, errOut := causeway(t, append(base, "--skip-file-checks")...)
		if code != 0 {
			t.Fatalf("%v --skip-file-checks: exit %d: %s", args, code, errOut)
		}
		for i := 1; i < len(args); i += 2 {
			if !strings.Contains(out, "filename: "+args[i]) {
				t.Errorf("bootstrap does not name %s:\n%s", args[i], out)
			}
		}
	}
	// The combination is still checked: skipping file checks is not
	// skipping the credential.
	if code, _, errOut := causeway(t, "bootstrap", "--cluster", "cluster-1", "--gateway", "web/http", "--xds-ca", "/etc/ca.pem", "--skip-file-checks"); code != 1 || !strings.Contains(errOut, "no credential was given") {
		t.Errorf("CA only with --skip-file-checks: exit %d, stderr %q; want refused for no credential", code, errOut)
	}
}
