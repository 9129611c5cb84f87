package e2eutil

import (
	"os"
	"testing"
	"time"
)

// WriteInSteps truncates path and writes the parts one after the other,
// pausing between them, on one open file: a writer that is not
// atomic, as an editor or a script can be.
func WriteInSteps(t testing.TB, path string, parts [][]byte, pause time.Duration) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, p := range parts {
		if i > 0 {
			time.Sleep(pause)
		}
		if _, err := f.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
