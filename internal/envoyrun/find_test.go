package envoyrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFindExplains: on a fresh clone (no .venv) or with a wrong
// CAUSEWAY_ENVOY, Find says what to do, naming the path it looked at.
func TestFindExplains(t *testing.T) {
	repo := t.TempDir() // a fresh clone: go.mod, no .venv
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module example.com/clone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	venvEnvoy := filepath.Join(repo, ".venv", "bin", "envoy")
	notExecutable := filepath.Join(t.TempDir(), "envoy")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir() // no go.mod above it (t.TempDir is under /tmp)
	for _, tc := range []struct {
		name, dir, env string
		want           []string
	}{
		{"fresh clone", repo, "", []string{venvEnvoy + " does not exist", "CAUSEWAY_ENVOY is unset", "run `make envoy`", "set CAUSEWAY_ENVOY"}},
		{"fresh clone, in a subdirectory", filepath.Join(repo, "cmd"), "", []string{venvEnvoy + " does not exist", "run `make envoy`"}},
		{"outside the repository", outside, "", []string{"no go.mod at or above " + outside, "`make envoy`", "set CAUSEWAY_ENVOY"}},
		{"CAUSEWAY_ENVOY missing", repo, filepath.Join(repo, "nope"), []string{"CAUSEWAY_ENVOY=" + filepath.Join(repo, "nope") + " does not exist", "`make envoy`"}},
		{"CAUSEWAY_ENVOY not executable", repo, notExecutable, []string{"CAUSEWAY_ENVOY=" + notExecutable + " is not executable"}},
		{"CAUSEWAY_ENVOY a directory", repo, repo, []string{"CAUSEWAY_ENVOY=" + repo + " is a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := moduleRoot(tc.dir); tc.dir == outside && err == nil {
				t.Skipf("a go.mod above %s (in the system's temp directory) makes this case impossible here", outside)
			}
			if err := os.MkdirAll(tc.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Chdir(tc.dir)
			t.Setenv(EnvBinary, tc.env)
			p, err := Find()
			if err == nil {
				t.Fatalf("Find() = %s, want an error", p)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
	t.Run("after make envoy", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Dir(venvEnvoy), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(venvEnvoy, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(filepath.Join(repo, "cmd"))
		t.Setenv(EnvBinary, "")
		if p, err := Find(); err != nil || p != venvEnvoy {
			t.Errorf("Find() = %q, %v; want %s", p, err, venvEnvoy)
		}
	})
}
