package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/causeway-dev/causeway/internal/envoyrun"
)

var (
	// causewayBin is the binary TestMain built, empty when Envoy is missing.
	causewayBin string
	// envoyBin is the Envoy binary, empty when missing (see envoyErr).
	envoyBin string
	envoyErr error
)

// TestMain builds ./cmd/causeway once, so the tests run the real binary.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	envoyBin, envoyErr = envoyrun.Find()
	if envoyErr == nil {
		dir, err := os.MkdirTemp("", "causeway-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		causewayBin = filepath.Join(dir, "causeway")
		build := exec.Command("go", "build", "-o", causewayBin, "github.com/causeway-dev/causeway/cmd/causeway")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/causeway: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// requireEnvoy skips the test when Envoy is missing, or fails it when
// CAUSEWAY_REQUIRE_E2E=1 says the run must not silently skip.
func requireEnvoy(t *testing.T) {
	t.Helper()
	if envoyErr == nil {
		return
	}
	if os.Getenv("CAUSEWAY_REQUIRE_E2E") == "1" {
		t.Fatalf("CAUSEWAY_REQUIRE_E2E=1 but Envoy is missing: %v", envoyErr)
	}
	t.Skipf("skipping end-to-end test: real Envoy needed (set CAUSEWAY_ENVOY or run `make envoy`): %v", envoyErr)
}
