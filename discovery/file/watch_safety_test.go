package file

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/model"
)

// guardWorld is a complete world of every kind the guard counts; rev
// tells its versions apart (the reviews Service's label "rev"). Its last
// line is an endpoint address in block style, so that a file cut within
// it is still a valid world.
func guardWorld(rev int) []byte {
	return fmt.Appendf(nil, `apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec: {network: network-1}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: reviews, namespace: bookinfo, labels: {app: reviews, rev: "%d"}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080}]
  endpoints: [{address: 127.0.1.10}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: ratings, namespace: bookinfo, labels: {app: ratings}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080}]
  endpoints: [{address: 127.0.1.20}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: reviews}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: ratings, namespace: bookinfo}
spec:
  hosts: [ratings.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: ratings}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: bookinfo, annotations: {causeway.dev/cluster: cluster-1}}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bookinfo, namespace: bookinfo}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: details, namespace: bookinfo}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080}]
  endpoints:
  - address: 127.0.1.30
`, rev)
}

// guardWorldObjects is what guardWorld has of each kind, as "world loaded" logs it.
var guardWorldObjects = map[string]string{"clusters": "1", "services": "3", "virtualDestinations": "2", "gateways": "1", "httpRoutes": "1"}

// revOf is the rev of a published guardWorld, "" for another world.
func revOf(s *model.Snapshot) string {
	for _, svc := range s.Services() {
		if svc.Name == "reviews" {
			return svc.Labels["rev"]
		}
	}
	return ""
}

// logRecord is one log line the watcher wrote, its attributes as text.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// recorder is a slog.Handler keeping every record, so that a test sees
// every world published (each logs "world loaded"), not only the last.
type recorder struct {
	mu      sync.Mutex
	records []logRecord
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := map[string]string{}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, logRecord{rec.Level, rec.Message, attrs})
	return nil
}

// find returns the records with message msg.
func (r *recorder) find(msg string) []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []logRecord
	for _, rec := range r.records {
		if rec.msg == msg {
			out = append(out, rec)
		}
	}
	return out
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.records {
		fmt.Fprintf(&b, "%s %s %v\n", rec.level, rec.msg, rec.attrs)
	}
	return b.String()
}

// checkOnlyWholeWorlds fails the test if a world published after the
// first was not a whole guardWorld.
func checkOnlyWholeWorlds(t *testing.T, rec *recorder) {
	t.Helper()
	for i, loaded := range rec.find("world loaded") {
		for kind, want := range guardWorldObjects {
			if got := loaded.attrs[kind]; got != want {
				t.Errorf("world %d published with %s=%s, want %s (only whole worlds):\n%s", i+1, kind, got, want, rec)
				break
			}
		}
	}
}

// startWatcher loads path and watches it until the test ends.
func startWatcher(t *testing.T, path string, guard Guard, log *slog.Logger) *model.Store {
	t.Helper()
	store := &model.Store{}
	w, err := NewWatcher(path, store, log, guard)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Load(); err != nil {
		w.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return store
}

// waitRev waits up to within for the store to publish guardWorld(rev).
func waitRev(t *testing.T, store *model.Store, rev int, within time.Duration, rec *recorder) {
	t.Helper()
	want := fmt.Sprint(rev)
	deadline := time.Now().Add(within)
	for revOf(store.Load()) != want {
		if time.Now().After(deadline) {
			t.Fatalf("world rev %s not published within %s (published rev %q); log:\n%s", want, within, revOf(store.Load()), rec)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newRecorder() (*recorder, *slog.Logger) {
	rec := &recorder{}
	return rec, slog.New(rec)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// renameInto replaces path atomically: a file written beside it and
// renamed over it.
func renameInto(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	writeFile(t, tmp, data)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestWatchRefusesEmptyWorld: a world file with no documents while
// serving is refused with an error naming the file; the last good world
// keeps serving and the metrics say so.
func TestWatchRefusesEmptyWorld(t *testing.T) {
	for name, empty := range map[string]string{
		"zero bytes":    "",
		"whitespace":    "\n   \n\n",
		"comments":      "# nothing here yet\n",
		"separators":    "---\n# c\n---\n",
		"comments only": "# a\n---\n# b\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "world.yaml")
			writeFile(t, path, guardWorld(1))
			rec, log := newRecorder()
			store := startWatcher(t, path, DefaultGuard, log)
			good := store.Load()
			refused := reloads.WithLabelValues("refused")
			before := metricValue(t, refused)

			writeFile(t, path, []byte(empty))
			waitFor(t, "the empty file refused", func() bool { return len(rec.find("world file refused, keeping the last good world")) > 0 })
			got := rec.find("world file refused, keeping the last good world")[0]
			if got.level != slog.LevelError || got.attrs["path"] != path || !strings.Contains(got.attrs["error"], path+": the world file has no documents") {
				t.Errorf("refusal logged as %v %v, want an error naming %s", got.level, got.attrs, path)
			}
			if store.Load() != good {
				t.Errorf("the empty file replaced the published world:\n%s", rec)
			}
			if v := metricValue(t, lastLoadSuccess); v != 0 {
				t.Errorf("causeway_world_last_load_success = %v, want 0", v)
			}
			if v := metricValue(t, refused) - before; v != 1 {
				t.Errorf(`causeway_world_reloads_total{result="refused"} increased by %v, want 1`, v)
			}

			writeFile(t, path, guardWorld(2))
			waitRev(t, store, 2, 5*time.Second, rec)
			if v := metricValue(t, lastLoadSuccess); v != 1 {
				t.Errorf("causeway_world_last_load_success = %v after a good file, want 1", v)
			}
			checkOnlyWholeWorlds(t, rec)
		})
	}
}

// TestLoadRefusesEmptyWorldAtStart: serve does not start on a world file
// with no documents.
func TestLoadRefusesEmptyWorldAtStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	writeFile(t, path, []byte("# to be written\n"))
	w, err := NewWatcher(path, &model.Store{}, slog.New(slog.DiscardHandler), DefaultGuard)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Load(); err == nil || !strings.Contains(err.Error(), path+": the world file has no documents") {
		t.Fatalf("Load of an empty world file = %v, want an error naming it", err)
	}
}

// TestWatchTruncateThenWrite: an editor that truncates the file and
// writes it 0.3 s later never publishes the empty file in between.
func TestWatchTruncateThenWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	writeFile(t, path, guardWorld(1))
	rec, log := newRecorder()
	store := startWatcher(t, path, DefaultGuard, log)

	e2eutil.WriteInSteps(t, path, [][]byte{nil, guardWorld(2)}, 300*time.Millisecond)
	waitRev(t, store, 2, 5*time.Second, rec)
	checkOnlyWholeWorlds(t, rec)
}

// TestWatchHalfWrite: a write that pauses for 1.5 s part of the way
// publishes nothing but the whole file, wherever the pause falls: at a
// document boundary (a valid world without the Gateway and HTTPRoute),
// within a line, or within the last line (a valid world with another
// last address).
func TestWatchHalfWrite(t *testing.T) {
	whole := guardWorld(2)
	gateway := strings.Index(string(whole), "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway")
	for name, cut := range map[string]int{
		"at a document boundary": gateway,
		"within a line":          len(whole) / 2,
		"within the last line":   len(whole) - 2, // address 127.0.1.3
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("half", whole[:cut]); name != "within a line" && err != nil {
				t.Fatalf("the half file must be a valid world for this case: %v", err)
			}
			path := filepath.Join(t.TempDir(), "world.yaml")
			writeFile(t, path, guardWorld(1))
			rec, log := newRecorder()
			store := startWatcher(t, path, DefaultGuard, log)

			e2eutil.WriteInSteps(t, path, [][]byte{whole[:cut], whole[cut:]}, 1500*time.Millisecond)
			waitRev(t, store, 2, 5*time.Second, rec)
			checkOnlyWholeWorlds(t, rec)
			details := store.Load().Service(model.ServiceKey{Cluster: "cluster-1", Namespace: "bookinfo", Name: "details"})
			if details == nil || details.Endpoints[0].Address != "127.0.1.30" {
				t.Errorf("details Service %+v published, want its endpoint 127.0.1.30", details)
			}
		})
	}
}

// TestWatchHoldsShrinkingWorld: a world dropping more than the threshold
// of what is served, or every object of a kind, is held until the file
// stays unchanged for the confirm delay; a newer file replaces it.
func TestWatchHoldsShrinkingWorld(t *testing.T) {
	whole := string(guardWorld(1))
	noRoute := strings.Replace(whole, "kind: HTTPRoute\nmetadata: {name: bookinfo", "kind: HTTPRoute\nmetadata: {name: other", 1)
	gateway := strings.Index(whole, "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway")
	noGateway := whole[:gateway] + "\n"
	confirm := 700 * time.Millisecond
	guard := Guard{ShrinkThreshold: 50, ConfirmDelay: confirm}

	t.Run("renamed route is not a shrink", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "world.yaml")
		writeFile(t, path, []byte(whole))
		rec, log := newRecorder()
		store := startWatcher(t, path, guard, log)
		renameInto(t, path, []byte(noRoute))
		// 1 of 7 objects dropped: below 50%, and a route is left.
		waitFor(t, "the edit published", func() bool { return store.Load().HTTPRoutes()[0].Name == "other" })
		if held := rec.find("world file change held: it is published if the file stays unchanged for the confirm delay, and replaced by any newer version"); len(held) > 0 {
			t.Errorf("a small change was held: %v", held)
		}
	})

	t.Run("held then confirmed", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "world.yaml")
		writeFile(t, path, []byte(whole))
		rec, log := newRecorder()
		store := startWatcher(t, path, guard, log)
		heldBefore := metricValue(t, reloads.WithLabelValues("held"))
		good := store.Load()
		renameInto(t, path, []byte(noGateway))
		start := time.Now()
		waitFor(t, "the shrinking world held", func() bool { return metricValue(t, held) == 1 })
		if store.Load() != good {
			t.Fatalf("a world without Gateway and HTTPRoute was published at once:\n%s", rec)
		}
		msg := rec.find("world file change held: it is published if the file stays unchanged for the confirm delay, and replaced by any newer version")
		if len(msg) != 1 || msg[0].level != slog.LevelWarn ||
			!strings.Contains(msg[0].attrs["reason"], "it drops 3 of the 7 VirtualDestinations, HTTPRoutes, Gateways and Services served (every HTTPRoute, every Gateway)") {
			t.Errorf("held log %v, want one warning with the reason", msg)
		}
		if v := metricValue(t, reloads.WithLabelValues("held")) - heldBefore; v != 1 {
			t.Errorf(`causeway_world_reloads_total{result="held"} increased by %v, want 1`, v)
		}
		waitFor(t, "the held world published", func() bool { return len(store.Load().Gateways()) == 0 })
		if waited := time.Since(start); waited < confirm {
			t.Errorf("held world published after %s, before the confirm delay %s", waited, confirm)
		}
		if metricValue(t, held) != 0 {
			t.Error("causeway_world_held still 1 after publishing")
		}
	})

	t.Run("replaced while held", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "world.yaml")
		writeFile(t, path, []byte(whole))
		rec, log := newRecorder()
		store := startWatcher(t, path, Guard{ShrinkThreshold: 50, ConfirmDelay: 3 * time.Second}, log)
		renameInto(t, path, []byte(noGateway))
		waitFor(t, "the shrinking world held", func() bool { return metricValue(t, held) == 1 })
		renameInto(t, path, guardWorld(2))
		waitRev(t, store, 2, 5*time.Second, rec)
		// Past the first world's confirm delay: it must not come back.
		time.Sleep(3500 * time.Millisecond)
		if revOf(store.Load()) != "2" || len(store.Load().Gateways()) != 1 {
			t.Errorf("held world published after a newer file replaced it:\n%s", rec)
		}
		checkOnlyWholeWorlds(t, rec)
	})

	t.Run("threshold 100 publishes at once", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "world.yaml")
		writeFile(t, path, []byte(whole))
		_, log := newRecorder()
		store := startWatcher(t, path, Guard{ShrinkThreshold: 100, ConfirmDelay: time.Hour}, log)
		renameInto(t, path, []byte(noGateway))
		waitFor(t, "the shrinking world published", func() bool { return len(store.Load().Gateways()) == 0 })
	})
}

func TestGuardReview(t *testing.T) {
	parse := func(s string) *model.Snapshot {
		t.Helper()
		snap, err := Parse("world.yaml", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	cluster := "apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\nspec: {}\n"
	services := func(names ...string) string {
		docs := []string{cluster}
		for _, n := range names {
			docs = append(docs, "apiVersion: world.causeway.dev/v1alpha1\nkind: Service\nmetadata: {name: "+n+"}\nspec: {cluster: c1}\n")
		}
		return strings.Join(docs, "---\n")
	}
	served := parse(services("a", "b", "c", "d"))
	for _, tc := range []struct {
		name  string
		guard Guard
		next  string
		want  string // "" or a part of the reason
	}{
		{"same", DefaultGuard, services("a", "b", "c", "d"), ""},
		{"half dropped is the threshold", DefaultGuard, services("a", "b"), ""},
		{"more than half dropped", DefaultGuard, services("a"), "it drops 3 of the 4 VirtualDestinations, HTTPRoutes, Gateways and Services served, more than the 50% threshold"},
		{"renamed all", DefaultGuard, services("e", "f", "g", "h"), "it drops 4 of the 4"},
		{"every Service", DefaultGuard, services(), "(every Service)"},
		{"threshold 75", Guard{ShrinkThreshold: 75, ConfirmDelay: time.Second}, services("a"), ""},
		{"threshold 0", Guard{ShrinkThreshold: 0, ConfirmDelay: time.Second}, services("a", "b", "c"), "it drops 1 of the 4"},
		{"threshold 100", Guard{ShrinkThreshold: 100, ConfirmDelay: time.Second}, services(), ""},
		{"no confirm delay", Guard{ShrinkThreshold: 50}, services(), ""},
		{"unfinished last line", DefaultGuard, strings.TrimSuffix(services("a", "b", "c", "d"), "\n"), "its last line is unfinished"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.guard.review(served, parse(tc.next), []byte(tc.next))
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("review = %q, want %q", got, tc.want)
			}
		})
	}
}
