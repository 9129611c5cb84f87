package file

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/causeway-dev/causeway/model"
)

// syncBuffer is a log sink the watcher goroutine and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond for at most 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func metricValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	m := &dto.Metric{}
	if err := (<-ch).Write(m); err != nil {
		t.Fatal(err)
	}
	if m.Gauge != nil {
		return m.Gauge.GetValue()
	}
	return m.Counter.GetValue()
}

func clusterWorld(names ...string) string {
	var docs []string
	for _, n := range names {
		docs = append(docs, "apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: "+n+"}\nspec: {}\n")
	}
	return strings.Join(docs, "---\n")
}

func clusterNames(s *model.Snapshot) string {
	var names []string
	for _, c := range s.Clusters() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

func TestWatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(path, []byte(clusterWorld("a")), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	store := &model.Store{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Watch(ctx, path, store, log) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch returned %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Watch did not return after cancel")
		}
	}()
	failures := reloads.WithLabelValues("failure")
	failuresBefore := metricValue(t, failures)

	waitFor(t, "initial world", func() bool { return clusterNames(store.Load()) == "a" })

	// An in-place write.
	if err := os.WriteFile(path, []byte(clusterWorld("a", "b")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "changed world", func() bool { return clusterNames(store.Load()) == "a,b" })
	if got := metricValue(t, lastLoadSuccess); got != 1 {
		t.Errorf("causeway_world_last_load_success = %v, want 1", got)
	}

	// A broken file keeps the last good world.
	good := store.Load()
	if err := os.WriteFile(path, []byte(clusterWorld("a", "a")), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "error log", func() bool { return strings.Contains(logs.String(), "level=ERROR") })
	if !strings.Contains(logs.String(), "document 2 (Cluster a): metadata.name: duplicate") {
		t.Errorf("error log does not name the document and field:\n%s", logs.String())
	}
	if store.Load() != good {
		t.Errorf("broken file replaced the published world: clusters %q", clusterNames(store.Load()))
	}
	if got := metricValue(t, lastLoadSuccess); got != 0 {
		t.Errorf("causeway_world_last_load_success = %v, want 0", got)
	}
	if got := metricValue(t, failures) - failuresBefore; got != 1 {
		t.Errorf("failure reloads increased by %v, want 1", got)
	}

	// Fixed the way editors save: write elsewhere, rename over.
	tmp := filepath.Join(dir, ".world.yaml.swp")
	if err := os.WriteFile(tmp, []byte(clusterWorld("c")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "fixed world", func() bool { return clusterNames(store.Load()) == "c" })
	if got := metricValue(t, lastLoadSuccess); got != 1 {
		t.Errorf("causeway_world_last_load_success = %v, want 1", got)
	}
}

func TestWatchInvalidAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(path, []byte("kind: Nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	store := &model.Store{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := Watch(ctx, path, store, log)
	if err == nil || !strings.Contains(err.Error(), "document 1") {
		t.Fatalf("Watch = %v, want an error naming document 1", err)
	}
}

func TestRegisterMetricsTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	for i := 0; i < 2; i++ {
		if err := RegisterMetrics(reg); err != nil {
			t.Fatalf("RegisterMetrics #%d: %v", i+1, err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	if got := strings.Join(names, ","); !strings.Contains(got, "causeway_world_last_load_success") {
		t.Errorf("gathered %s, want causeway_world_last_load_success", got)
	}
}
