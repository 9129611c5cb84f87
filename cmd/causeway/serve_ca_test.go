package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
)

func TestCAFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := (caFlags{certTTL: time.Second}).loadCA(dir, "causeway.local"); err == nil || !strings.Contains(err.Error(), "--cert-ttl") {
		t.Errorf("--cert-ttl 1s: err = %v, want one naming --cert-ttl", err)
	}
	old, err := ca.LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(bundle, old.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := (caFlags{certTTL: time.Hour, trustBundle: bundle}).loadCA(dir, "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c.RootsPEM()), strings.TrimSpace(string(old.RootPEM()))) {
		t.Error("--trust-bundle root missing from RootsPEM")
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	if _, err := (caFlags{certTTL: time.Hour, trustBundle: missing}).loadCA(dir, "causeway.local"); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing --trust-bundle: err = %v, want one naming the file", err)
	}
}
