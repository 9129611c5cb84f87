package e2eutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
