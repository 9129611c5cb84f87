package e2eutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// modulePath is the repository's Go module.
const modulePath = "github.com/causeway-dev/causeway"

// BuildCommands builds ./cmd/<name> for every name into a new temporary
// directory (named with tempPrefix), so the tests run the real binaries
// built once per test binary. It returns their paths in the order given
// and a function removing the directory. `go build` output goes to stderr.
func BuildCommands(tempPrefix string, names ...string) (bins []string, remove func(), err error) {
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	for _, name := range names {
		bin := filepath.Join(dir, name)
		pkg := modulePath + "/cmd/" + name
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			remove()
			return nil, nil, fmt.Errorf("go build %s: %w", pkg, err)
		}
		bins = append(bins, bin)
	}
	return bins, remove, nil
}

// LockAndBuild is the start of a package of end-to-end tests on fixed
// addresses: it takes the machine-wide lock (waiting at most wait, saying
// so on stderr under pkg's name), then builds ./cmd/causeway. done
// removes the binary and releases the lock.
func LockAndBuild(pkg string, wait time.Duration) (causewayBin string, done func(), err error) {
	unlock, err := Lock(wait, func(path string) {
		fmt.Fprintf(os.Stderr, "%s: another end-to-end run holds %s; waiting\n", pkg, path)
	})
	if err != nil {
		return "", nil, err
	}
	bins, remove, err := BuildCommands("causeway-"+pkg+"-bin-", "causeway")
	if err != nil {
		unlock()
		return "", nil, err
	}
	return bins[0], func() { remove(); unlock() }, nil
}
