package e2eutil

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// LockPath is the machine-wide lock every end-to-end package takes for the
// fixed loopback addresses, ports and network namespaces it uses.
func LockPath() string { return filepath.Join(os.TempDir(), "causeway-e2e.lock") }

// Lock takes the machine-wide lock, so that two `go test` runs (say, an
// editor's and `make test`) queue instead of failing with "address already
// in use". It tries every 500 ms for at most wait; busy, when not nil, is
// called once when the lock is held by someone else.
func Lock(wait time.Duration, busy func(path string)) (unlock func(), err error) {
	return lockFile(LockPath(), wait, busy)
}

// LockT takes the machine-wide lock for t, released by t's cleanup, and
// fails t when it cannot within wait.
func LockT(t testing.TB, wait time.Duration) {
	t.Helper()
	start := time.Now()
	unlock, err := Lock(wait, nil)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Logf("waited %v for %s", waited.Round(time.Second), LockPath())
	}
	t.Cleanup(unlock)
}

func lockFile(path string, wait time.Duration, busy func(string)) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	const interval = 500 * time.Millisecond
	attempts := int(wait / interval)
	for i := 0; i < attempts; i++ {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if i == 0 && busy != nil {
			busy(path)
		}
		time.Sleep(interval)
	}
	f.Close()
	return nil, fmt.Errorf("another end-to-end run held %s for %v", path, time.Duration(attempts)*interval)
}
