package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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
		unlock, err := lockAddresses()
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
		defer unlock()
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

// lockAddresses takes a machine-wide lock for the fixed loopback addresses
// and ports the topology uses, so that two `go test` runs (say, an editor's
// and `make test`) queue instead of failing with "address already in use".
// It waits at most 3 minutes.
func lockAddresses() (unlock func(), err error) {
	path := filepath.Join(os.TempDir(), "causeway-e2e.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	const attempts, interval = 360, 500 * time.Millisecond
	for i := 0; i < attempts; i++ {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if i == 0 {
			fmt.Fprintf(os.Stderr, "e2e: another end-to-end run holds %s; waiting\n", path)
		}
		time.Sleep(interval)
	}
	f.Close()
	return nil, fmt.Errorf("another end-to-end run held %s for %v", path, attempts*interval)
}
