package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
)

func TestCAFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := (caFlags{certTTL: time.Second}).loadCA(dir, "causeway.local", discardLog); err == nil || !strings.Contains(err.Error(), "--cert-ttl") {
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
	c, err := (caFlags{certTTL: time.Hour, trustBundle: bundle}).loadCA(dir, "causeway.local", discardLog)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c.RootsPEM()), strings.TrimSpace(string(old.RootPEM()))) {
		t.Error("--trust-bundle root missing from RootsPEM")
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	if _, err := (caFlags{certTTL: time.Hour, trustBundle: missing}).loadCA(dir, "causeway.local", discardLog); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing --trust-bundle: err = %v, want one naming the file", err)
	}
}

var discardLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestServeCARootSafety: serve logs the root it uses (a created one
// loudly), and refuses to start with a new root where one was before, with
// an error naming the directory, the recorded root and the override flag.
func TestServeCARootSafety(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	first, err := (caFlags{}).loadCA(dir, "causeway.local", log)
	if err != nil {
		t.Fatal(err)
	}
	fp := first.RootFingerprint()
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "NEW CA root") ||
		!strings.Contains(out, fp) || !strings.Contains(out, dir) {
		t.Errorf("first start: log %q, want a WARN about a new root with its fingerprint and directory", out)
	}
	logs = lockedBuffer{}
	log = slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := (caFlags{}).loadCA(dir, "causeway.local", log); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); !strings.Contains(out, "level=INFO") || !strings.Contains(out, "CA root loaded") || !strings.Contains(out, fp) {
		t.Errorf("restart: log %q, want an INFO with the loaded root's fingerprint", out)
	}

	for _, f := range []string{ca.RootCertFile, ca.RootKeyFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	// runServe, bounded: on a serve that accepts the directory it would
	// serve until cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = runServe(ctx, &serveFlags{world: "testdata/world.yaml", xdsAddress: freeAddr(t), metricsAddress: freeAddr(t),
		caDir: dir, trustDomain: "causeway.local", logLevel: "info"}, io.Discard)
	for _, want := range []string{dir, ca.RootHistoryFile, fp, "--ca-allow-new-root"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve with the root files gone: err = %v; want a refusal naming %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ca.RootCertFile)); err == nil {
		t.Error("the refused start wrote a new root")
	}
	c, err := (caFlags{allowNewRoot: true}).loadCA(dir, "causeway.local", discardLog)
	if err != nil || !c.Created() || c.RootFingerprint() == fp {
		t.Errorf("--ca-allow-new-root: err %v; want a new root", err)
	}
}

// TestServeCAExpectRoot: --ca-expect-root-fingerprint pins the root, so a
// wrong (or brand-new) directory is refused even without a history there.
func TestServeCAExpectRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	c, err := (caFlags{}).loadCA(dir, "causeway.local", discardLog)
	if err != nil {
		t.Fatal(err)
	}
	fp := strings.ToLower(strings.ReplaceAll(c.RootFingerprint(), ":", ""))
	if _, err := (caFlags{expectRoot: fp}).loadCA(dir, "causeway.local", discardLog); err != nil {
		t.Errorf("matching --ca-expect-root-fingerprint refused: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if _, err := (caFlags{expectRoot: fp}).loadCA(empty, "causeway.local", discardLog); err == nil ||
		!strings.Contains(err.Error(), "--ca-expect-root-fingerprint") || !strings.Contains(err.Error(), c.RootFingerprint()) {
		t.Errorf("empty --ca-dir with --ca-expect-root-fingerprint: err = %v, want a refusal naming the flag and fingerprint", err)
	}
	if _, err := os.Stat(filepath.Join(empty, ca.RootCertFile)); err == nil {
		t.Error("the refused start wrote a root")
	}
	other := filepath.Join(t.TempDir(), "other")
	if _, err := (caFlags{}).loadCA(other, "causeway.local", discardLog); err != nil {
		t.Fatal(err)
	}
	if _, err := (caFlags{expectRoot: fp}).loadCA(other, "causeway.local", discardLog); err == nil {
		t.Error("another directory's root accepted despite --ca-expect-root-fingerprint")
	}
	if _, err := (caFlags{expectRoot: "abc"}).loadCA(dir, "causeway.local", discardLog); err == nil || !strings.Contains(err.Error(), "--ca-expect-root-fingerprint") {
		t.Errorf("malformed fingerprint: err = %v", err)
	}
}
