package e2eutil

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvArtifacts names a directory where tests keep logs and config dumps,
// pass or fail, under a subdirectory per test (CI uploads it).
const EnvArtifacts = "CAUSEWAY_E2E_ARTIFACTS"

// ArtifactsDir is $CAUSEWAY_E2E_ARTIFACTS/<test name>, or "" when unset.
func ArtifactsDir(t testing.TB) string {
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, t.Name())
}

// CopyToArtifacts copies the file from into ArtifactsDir as name; it does
// nothing when CAUSEWAY_E2E_ARTIFACTS is unset and only logs errors, since
// artifacts must not change a test's outcome.
func CopyToArtifacts(t testing.TB, from, name string) {
	if ArtifactsDir(t) == "" {
		return
	}
	data, err := os.ReadFile(from)
	if err != nil {
		t.Log(err)
		return
	}
	WriteArtifact(t, name, data)
}

// WriteArtifact writes data into ArtifactsDir as name, like CopyToArtifacts.
func WriteArtifact(t testing.TB, name string, data []byte) {
	dir := ArtifactsDir(t)
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Log(err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Log(err)
	}
}
