package e2eutil

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLockQueues uses its own lock file, not the machine-wide one, so it
// never waits for (or blocks) a real end-to-end run.
func TestLockQueues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lockFile(path, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	busy := 0
	if _, err := lockFile(path, time.Second, func(string) { busy++ }); err == nil || !strings.Contains(err.Error(), "held") {
		t.Fatalf("second lock while held: err = %v, want \"held\"", err)
	}
	if busy != 1 {
		t.Errorf("busy called %d times, want 1", busy)
	}
	unlock()
	unlock2, err := lockFile(path, time.Second, nil)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
