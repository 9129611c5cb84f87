package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// TestDemoWithoutEnvoy is `go run ./cmd/causeway-demo --check` on a fresh
// clone: no .venv yet and CAUSEWAY_ENVOY unset. The demo says to run
// `make envoy` before building or writing anything.
func TestDemoWithoutEnvoy(t *testing.T) {
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module example.com/clone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	t.Setenv(envoyrun.EnvBinary, "")
	var out bytes.Buffer
	err := demoMain([]string{"--check"}, strings.NewReader(""), &out)
	if err == nil {
		t.Fatal("demo --check without Envoy succeeded")
	}
	for _, want := range []string{filepath.Join(repo, ".venv", "bin", "envoy") + " does not exist", "run `make envoy`", "set CAUSEWAY_ENVOY", "--envoy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, statErr := os.Stat(filepath.Join(repo, ".cache")); statErr == nil {
		t.Errorf("the demo wrote its work directory before finding Envoy")
	}
	if out.Len() != 0 {
		t.Errorf("the demo printed %q before finding Envoy", out.String())
	}
}
