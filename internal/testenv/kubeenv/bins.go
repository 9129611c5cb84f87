package kubeenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Environment variables read by this package.
const (
	// EnvBinDir names the directory holding kube-apiserver, etcd and the
	// other binaries build.sh makes.
	EnvBinDir = "CAUSEWAY_KUBE_BIN_DIR"
	// EnvRequire set to "1" turns every skip for a missing prerequisite
	// into a failure, so CI cannot pass by silently skipping.
	EnvRequire = "CAUSEWAY_REQUIRE_E2E"
)

// ErrMissingBinary is wrapped by the errors FindBinaries and the Require
// methods return when a binary is not in the cache directory, so a caller
// can skip (SkipOrFail) rather than fail.
var ErrMissingBinary = errors.New("missing binary")

// Binaries are the executables an Env runs. APIServer and Etcd are
// always set (FindBinaries fails without them); the others are paths in
// the same directory that may not exist yet: RequireControllers and
// RequireCoreDNS check them before use.
type Binaries struct {
	APIServer, Etcd string
	// ControllerManager and Scheduler run by Cluster.StartControllers.
	ControllerManager, Scheduler string
	// CoreDNS is for the conformance node agent, which runs it for the
	// suite's coredns Pods.
	CoreDNS string

	from string // where the directory came from, for error messages
}

// FindBinaries looks for kube-apiserver and etcd in $CAUSEWAY_KUBE_BIN_DIR,
// else in ${XDG_CACHE_HOME:-$HOME/.cache}/causeway/kube, and names the
// optional binaries in the same directory.
func FindBinaries() (Binaries, error) {
	dir := os.Getenv(EnvBinDir)
	from := EnvBinDir
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return Binaries{}, fmt.Errorf("%s unset and no home directory: %w", EnvBinDir, err)
			}
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "causeway", "kube")
		from = "default cache dir (" + EnvBinDir + " unset)"
	}
	b := Binaries{
		APIServer:         filepath.Join(dir, "kube-apiserver"),
		Etcd:              filepath.Join(dir, "etcd"),
		ControllerManager: filepath.Join(dir, "kube-controller-manager"),
		Scheduler:         filepath.Join(dir, "kube-scheduler"),
		CoreDNS:           filepath.Join(dir, "coredns"),
		from:              from,
	}
	if err := b.check(b.APIServer, b.Etcd); err != nil {
		return Binaries{}, err
	}
	return b, nil
}

// RequireControllers reports whether kube-controller-manager and
// kube-scheduler are there, naming the one missing and `make kube-bins`.
func (b Binaries) RequireControllers() error {
	return b.check(b.ControllerManager, b.Scheduler)
}

// RequireCoreDNS reports whether coredns is there.
func (b Binaries) RequireCoreDNS() error {
	return b.check(b.CoreDNS)
}

func (b Binaries) check(paths ...string) error {
	from := b.from
	if from == "" {
		from = "Binaries"
	}
	for _, p := range paths {
		if p == "" {
			return fmt.Errorf("%w: path not set in %s (run `make kube-bins`)", ErrMissingBinary, from)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%w: %s from %s: %w (run `make kube-bins`)", ErrMissingBinary, filepath.Base(p), from, err)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("%s from %s is not an executable file", p, from)
		}
	}
	return nil
}

// SkipOrFail skips t, or fails it under CAUSEWAY_REQUIRE_E2E=1; for
// callers whose prerequisite (a binary, say) is missing.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf(EnvRequire+"=1 but "+format, args...)
	}
	t.Skipf("skipping: real API servers needed: "+format, args...)
}
