package kubeenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Environment variables read by this package.
const (
	// EnvBinDir names the directory holding kube-apiserver and etcd.
	EnvBinDir = "CAUSEWAY_KUBE_BIN_DIR"
	// EnvRequire set to "1" turns every skip for a missing prerequisite
	// into a failure, so CI cannot pass by silently skipping.
	EnvRequire = "CAUSEWAY_REQUIRE_E2E"
)

// Binaries are the executables an Env runs.
type Binaries struct {
	APIServer, Etcd string
}

// FindBinaries looks for kube-apiserver and etcd in $CAUSEWAY_KUBE_BIN_DIR,
// else in ${XDG_CACHE_HOME:-$HOME/.cache}/causeway/kube.
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
	b := Binaries{APIServer: filepath.Join(dir, "kube-apiserver"), Etcd: filepath.Join(dir, "etcd")}
	for _, p := range []string{b.APIServer, b.Etcd} {
		fi, err := os.Stat(p)
		if err != nil {
			return Binaries{}, fmt.Errorf("%s from %s: %w (run `make kube-bins`)", filepath.Base(p), from, err)
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return Binaries{}, fmt.Errorf("%s from %s is not an executable file", p, from)
		}
	}
	return b, nil
}

// skipOrFail skips t, or fails it under CAUSEWAY_REQUIRE_E2E=1.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf(EnvRequire+"=1 but "+format, args...)
	}
	t.Skipf("skipping: real API servers needed: "+format, args...)
}
