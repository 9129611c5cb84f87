package file

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/model"
)

// paddedWorld is a valid one-cluster world padded with a YAML comment to
// exactly size bytes, so only its size can make it fail.
func paddedWorld(t *testing.T, cluster string, size int) []byte {
	t.Helper()
	head := clusterWorld(cluster) + "# "
	if size < len(head)+1 {
		t.Fatalf("size %d too small", size)
	}
	return []byte(head + strings.Repeat("x", size-len(head)-1) + "\n")
}

func writeWorld(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWorldFileSizeLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")

	writeWorld(t, path, paddedWorld(t, "cluster-1", MaxWorldFileBytes))
	if _, err := Load(path); err != nil {
		t.Fatalf("a world of exactly the limit must load: %v", err)
	}

	over := paddedWorld(t, "cluster-1", MaxWorldFileBytes+1)
	writeWorld(t, path, over)
	_, err := Load(path)
	if err == nil {
		t.Fatal("a world file over the limit loaded")
	}
	for _, want := range []string{path, strconv.Itoa(MaxWorldFileBytes + 1), "over the limit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := Parse("inline", over); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("Parse of oversized data: %v, want the size error", err)
	}
}

// TestWatchKeepsWorldWhenFileTooLarge: a reload that hits the limit is a
// failed load; the last good world stays published.
func TestWatchKeepsWorldWhenFileTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	store := &model.Store{}
	l := &loader{path: path, store: store, log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	writeWorld(t, path, []byte(clusterWorld("cluster-1")))
	if err := l.load(false); err != nil {
		t.Fatal(err)
	}
	writeWorld(t, path, paddedWorld(t, "cluster-2", MaxWorldFileBytes+1))
	if err := l.load(false); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("load of an oversized file: %v, want the size error", err)
	}
	if got := clusterNames(store.Load()); got != "cluster-1" {
		t.Errorf("published world has clusters %q after an oversized reload, want the last good cluster-1", got)
	}
}
