package file

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// editBound is how long an edit may take to be published in these tests:
// far more than the watcher needs (watchQuiet, a stable read and a
// parse), far less than the old watcher's delays under the same events.
const editBound = 4 * time.Second

// background runs f every interval in a goroutine until the test ends
// (at most limit), as another program writing to the disk would.
func background(t *testing.T, interval, limit time.Duration, f func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				f()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// TestWatchAtomicRename: a file written beside the world file and renamed
// over it is published, time after time (each rename ends the watch of
// an inode: the watcher watches the directory).
func TestWatchAtomicRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	writeFile(t, path, guardWorld(1))
	rec, log := newRecorder()
	store := startWatcher(t, path, DefaultGuard, log)
	for rev := 2; rev <= 4; rev++ {
		renameInto(t, path, guardWorld(rev))
		waitRev(t, store, rev, editBound, rec)
	}
	checkOnlyWholeWorlds(t, rec)
}

// configMapDir lays out dir as the kubelet mounts a ConfigMap holding
// world.yaml: world.yaml -> ..data/world.yaml, ..data -> ..<version>.
// update swaps in a new version the kubelet's way: a new timestamped
// directory, a new ..data symlink renamed over the old, the old
// directory removed.
type configMapDir struct {
	t       *testing.T
	dir     string
	version int
}

func newConfigMapDir(t *testing.T, data []byte) *configMapDir {
	c := &configMapDir{t: t, dir: t.TempDir()}
	c.update(data)
	if err := os.Symlink(filepath.Join("..data", "world.yaml"), filepath.Join(c.dir, "world.yaml")); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *configMapDir) update(data []byte) {
	t := c.t
	t.Helper()
	old := c.versionDir()
	c.version++
	if err := os.Mkdir(filepath.Join(c.dir, c.versionDir()), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(c.dir, c.versionDir(), "world.yaml"), data)
	tmp := filepath.Join(c.dir, "..data_tmp")
	if err := os.Symlink(c.versionDir(), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if c.version > 1 {
		if err := os.RemoveAll(filepath.Join(c.dir, old)); err != nil {
			t.Fatal(err)
		}
	}
}

func (c *configMapDir) versionDir() string {
	return "..2026_12_07_02_00_00." + strings.Repeat("1", c.version)
}

// TestWatchConfigMapSymlinkSwap: a mounted ConfigMap's updates (a
// symlink swapped, the old version's directory removed) are followed,
// update after update.
func TestWatchConfigMapSymlinkSwap(t *testing.T) {
	cm := newConfigMapDir(t, guardWorld(1))
	rec, log := newRecorder()
	store := startWatcher(t, filepath.Join(cm.dir, "world.yaml"), DefaultGuard, log)
	waitRev(t, store, 1, editBound, rec)
	for rev := 2; rev <= 4; rev++ {
		cm.update(guardWorld(rev))
		waitRev(t, store, rev, editBound, rec)
	}
	checkOnlyWholeWorlds(t, rec)
}

// TestWatchSymlinkToAnotherDirectory: when the world file is a symlink to
// a file elsewhere, editing that file in place is a change of the world.
func TestWatchSymlinkToAnotherDirectory(t *testing.T) {
	target := filepath.Join(t.TempDir(), "current.yaml")
	writeFile(t, target, guardWorld(1))
	path := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	rec, log := newRecorder()
	store := startWatcher(t, path, DefaultGuard, log)
	writeFile(t, target, guardWorld(2))
	waitRev(t, store, 2, editBound, rec)

	// Repointed to another file: that file is followed from then on.
	other := filepath.Join(t.TempDir(), "next.yaml")
	writeFile(t, other, guardWorld(3))
	tmp := path + ".tmp"
	if err := os.Symlink(other, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitRev(t, store, 3, editBound, rec)
	writeFile(t, other, guardWorld(4))
	waitRev(t, store, 4, editBound, rec)
}

// TestWatchIgnoresOtherFiles: a log appended every 30 ms next to the
// world file neither delays an edit nor causes reloads.
func TestWatchIgnoresOtherFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "world.yaml")
	writeFile(t, path, guardWorld(1))
	rec, log := newRecorder()
	store := startWatcher(t, path, DefaultGuard, log)
	logFile, err := os.OpenFile(filepath.Join(dir, "app.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	background(t, 30*time.Millisecond, 20*time.Second, func() { _, _ = logFile.WriteString("a line of log\n") })

	time.Sleep(time.Second)
	if n := len(rec.find("world file changed, reloading")); n != 0 {
		t.Errorf("the log next to the world file caused %d reloads", n)
	}
	writeFile(t, path, guardWorld(2))
	waitRev(t, store, 2, editBound, rec)
}

// TestWatchOwnLogInDirectory: serve's own debug log written into the
// world file's directory does not feed back into the watcher: edits are
// applied and the log stays small.
func TestWatchOwnLogInDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "world.yaml")
	writeFile(t, path, guardWorld(1))
	logPath := filepath.Join(dir, "causeway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := startWatcher(t, path, DefaultGuard, log)
	rec := &recorder{} // for waitRev's message only
	for rev := 2; rev <= 4; rev++ {
		writeFile(t, path, guardWorld(rev))
		waitRev(t, store, rev, editBound, rec)
	}
	time.Sleep(time.Second)
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// Per edit: a debug line and "world loaded"; a few hundred bytes each.
	if lines := strings.Count(string(data), "\n"); lines > 20 {
		t.Errorf("the watcher logged %d lines for 3 edits (its own log feeds back?); first lines:\n%.2000s", lines, data)
	}
}

// TestWatchMaxWaitUnderWriteStorm: a file rewritten every 10 ms without
// end (the same new content each time) is still loaded: events hold a
// reload back watchMaxWait at most.
func TestWatchMaxWaitUnderWriteStorm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	writeFile(t, path, guardWorld(1))
	rec, log := newRecorder()
	store := startWatcher(t, path, DefaultGuard, log)
	next := guardWorld(2)
	background(t, 10*time.Millisecond, 20*time.Second, func() { _ = os.WriteFile(path, next, 0o644) })
	waitRev(t, store, 2, editBound, rec)
	checkOnlyWholeWorlds(t, rec)
}

// TestReadStable: a file that keeps changing is not read as a world; once
// it stops, it is.
func TestReadStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	writeFile(t, path, guardWorld(1))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; i < 2000; i++ { // bounded: 20 s at most
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				_, _ = f.WriteString("# growing\n")
			}
		}
	}()
	_, err = readStable(path)
	close(stop)
	<-stopped
	if err == nil || !strings.Contains(err.Error(), "kept changing while being read") {
		t.Fatalf("readStable of a file being appended to = %v, want the unstable error", err)
	}
	data, err := readStable(path)
	if err != nil || !strings.HasPrefix(string(data), string(guardWorld(1))) {
		t.Fatalf("readStable of a settled file = %d bytes, %v", len(data), err)
	}
}
