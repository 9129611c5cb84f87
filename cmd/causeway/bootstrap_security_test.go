package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/internal/ca"
)

// TestBootstrapRefusesWithoutCredential: a bootstrap that would fetch keys
// over an unauthenticated stream is never printed by accident.
func TestBootstrapRefusesWithoutCredential(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "or --xds-insecure for plaintext xDS without authentication"},
		{"CA only", []string{"--xds-ca", "ca.pem"}, "no credential was given"},
		{"cert without key", []string{"--xds-ca", "ca.pem", "--xds-cert", "cert.pem"}, "--xds-cert and --xds-key go together"},
		{"no CA", []string{"--xds-cert", "cert.pem", "--xds-key", "key.pem"}, "--xds-ca is required"},
		{"plaintext with a credential", []string{"--xds-insecure", "--xds-cert", "cert.pem", "--xds-key", "key.pem"}, "--xds-insecure (plaintext xDS) excludes --xds-cert, --xds-key"},
		{"missing token file", []string{"--xds-ca", filepath.Join(issueTestCredentials(t), "ca.pem"), "--xds-token-file", filepath.Join(t.TempDir(), "none")}, "--xds-token-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := causeway(t, append([]string{"bootstrap", "--cluster", "cluster-1", "--gateway", "gloo-system/http"}, tc.args...)...)
			if code == 0 || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want failure containing %q", code, out, errOut, tc.want)
			}
		})
	}
}

// TestBootstrapWithIssuedCertificate is the documented flow: certs issue,
// then bootstrap with its files.
func TestBootstrapWithIssuedCertificate(t *testing.T) {
	caDir := filepath.Join(t.TempDir(), "ca")
	if _, err := ca.LoadOrCreate(caDir, "example.org"); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "gw1")
	if code, _, errOut := causeway(t, "certs", "issue", "--ca-dir", caDir, "--trust-domain", "example.org",
		"--role", "gateway", "--cluster", "cluster-1", "--out", out); code != 0 {
		t.Fatalf("certs issue: exit %d: %s", code, errOut)
	}
	code, y, errOut := causeway(t, "bootstrap", "--cluster", "cluster-1", "--gateway", "gloo-system/http", "--trust-domain", "example.org",
		"--xds-server-name", "xds.example.org", "--xds-ca", filepath.Join(out, "ca.pem"),
		"--xds-cert", filepath.Join(out, "cert.pem"), "--xds-key", filepath.Join(out, "key.pem"))
	if code != 0 {
		t.Fatalf("bootstrap: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"filename: " + filepath.Join(out, "ca.pem"), "filename: " + filepath.Join(out, "cert.pem"), "filename: " + filepath.Join(out, "key.pem"),
		"exact: spiffe://example.org/ns/causeway-system/sa/causeway", "sni: xds.example.org", "- h2",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("bootstrap lacks %q:\n%s", want, y)
		}
	}
	if strings.Contains(y, "PRIVATE KEY") {
		t.Error("bootstrap inlines the private key; it must name the file")
	}
}

// TestBootstrapWithTokenFile: the bootstrap names the token file for Envoy
// to read on every connect; the token itself is nowhere in it.
func TestBootstrapWithTokenFile(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("eyJhbGciOi.payload.sig"), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(issueTestCredentials(t), "ca.pem")
	code, y, errOut := causeway(t, "bootstrap", "--cluster", "cluster-1", "--gateway", "gloo-system/http", "--xds-ca", caFile, "--xds-token-file", tokenFile)
	if code != 0 {
		t.Fatalf("bootstrap: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"name: envoy.grpc_credentials.file_based_metadata", "filename: " + tokenFile, "header_prefix: 'Bearer '",
		"filename: " + caFile, "grpc.ssl_target_name_override:\n", "string_value: localhost",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("bootstrap lacks %q:\n%s", want, y)
		}
	}
	if strings.Contains(y, "payload") || strings.Contains(y, "cert_chain") {
		t.Errorf("token bootstrap inlines the token or has a client certificate:\n%s", y)
	}
}

// TestBootstrapRefusesBadTokenFile: a token file Envoy would send as a
// broken credential is refused now, naming the file, not at the proxy's
// first connect.
func TestBootstrapRefusesBadTokenFile(t *testing.T) {
	caFile := filepath.Join(issueTestCredentials(t), "ca.pem")
	for _, tc := range []struct {
		name, content, want string
	}{
		{"empty", "", "is empty"},
		{"trailing newline", "eyJhbGciOi.payload.sig\n", "ends with a newline or space"},
		{"not a JWT", "hunter2", "does not hold a service-account token"},
		{"two tokens", "eyJhbGciOi.payload.sig\neyJhbGciOi.payload.sig", "does not hold a service-account token"},
		{"a PEM file", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "does not hold a service-account token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokenFile := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(tokenFile, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := causeway(t, "bootstrap", "--cluster", "cluster-1", "--gateway", "default/web", "--xds-ca", caFile, "--xds-token-file", tokenFile)
			if code == 0 || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, tokenFile) {
				t.Errorf("exit %d, stdout %q, stderr %q; want failure naming %s containing %q", code, out, errOut, tokenFile, tc.want)
			}
		})
	}
}
