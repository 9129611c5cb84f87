package envoyrun

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvBinary is the environment variable naming the Envoy binary to use.
const EnvBinary = "CAUSEWAY_ENVOY"

// Find returns the Envoy binary: $CAUSEWAY_ENVOY when set, else
// <module root>/.venv/bin/envoy, where the module root is the nearest
// directory at or above the working directory that holds go.mod.
func Find() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBinary, p, err)
		}
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return "", fmt.Errorf("no Envoy: %s unset and %w", EnvBinary, err)
	}
	p := filepath.Join(root, ".venv", "bin", "envoy")
	if err := executable(p); err != nil {
		return "", fmt.Errorf("no Envoy: %s unset and %w (run `make envoy` or set %s)", EnvBinary, err, EnvBinary)
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

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if fi.Mode()&0o111 == 0 {
		return errors.New("is not executable")
	}
	return nil
}
