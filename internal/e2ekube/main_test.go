package e2ekube

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/envoyrun"
	"github.com/causeway-dev/causeway/internal/kubeenv"
)

// kubeEnv is the package's one etcd and three API servers, started by the
// first test that needs them; their logs are kept when a test fails.
var kubeEnv = kubeenv.NewShared("management", "cluster-1", "cluster-2")

var (
	// causewayBin and backendBin are the binaries TestMain built.
	causewayBin, backendBin string
	// envoyBin is the Envoy binary, empty when missing (see envoyErr).
	envoyBin string
	envoyErr error
)

// TestMain builds ./cmd/causeway and ./cmd/sample-backend once, so the tests
// run the real binaries.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	envoyBin, envoyErr = envoyrun.Find()
	dir, err := os.MkdirTemp("", "causeway-e2ekube-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	causewayBin = filepath.Join(dir, "causeway")
	backendBin = filepath.Join(dir, "sample-backend")
	for bin, pkg := range map[string]string{
		causewayBin: "github.com/causeway-dev/causeway/cmd/causeway",
		backendBin:  "github.com/causeway-dev/causeway/cmd/sample-backend",
	} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "e2ekube: go build %s: %v\n", pkg, err)
			return 1
		}
	}
	return kubeEnv.Run(m)
}

// required reports whether CAUSEWAY_REQUIRE_E2E=1 forbids skipping.
func required() bool { return os.Getenv("CAUSEWAY_REQUIRE_E2E") == "1" }

// skipOrFail skips t saying why, or fails it when skipping is forbidden.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if required() {
		t.Fatalf("CAUSEWAY_REQUIRE_E2E=1 but "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// requireEnvoy skips (or fails) t when Envoy is missing.
func requireEnvoy(t *testing.T) {
	t.Helper()
	if envoyErr != nil {
		skipOrFail(t, "real Envoy needed (set CAUSEWAY_ENVOY or run `make envoy`): %v", envoyErr)
	}
}

// lockAddresses takes the machine-wide lock internal/e2e also takes, for
// the fixed addresses, ports and network namespaces this package uses, so
// that concurrent end-to-end runs queue instead of colliding. The lock is
// released by t's cleanup. It waits at most 4 minutes: internal/e2e holds
// the lock for its whole run.
func lockAddresses(t *testing.T) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "causeway-e2e.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	const attempts, interval = 480, 500 * time.Millisecond
	start := time.Now()
	for i := 0; i < attempts; i++ {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			if waited := time.Since(start); waited > time.Second {
				t.Logf("waited %v for %s", waited.Round(time.Second), path)
			}
			t.Cleanup(func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() })
			return
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			t.Fatalf("lock %s: %v", path, err)
		}
		time.Sleep(interval)
	}
	f.Close()
	t.Fatalf("another end-to-end run held %s for %v", path, attempts*interval)
}
