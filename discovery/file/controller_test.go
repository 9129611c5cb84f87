package file

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/causeway-dev/causeway/model"
)

// TestWatcherControllerName: serve --controller-name reaches the worlds the
// watcher publishes, on the first load and on reloads.
func TestWatcherControllerName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "world.yaml")
	write := func(cluster string) {
		doc := "apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: " + cluster + "}\n"
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("c1")
	for _, tc := range []struct{ set, want string }{
		{"", model.DefaultControllerName},
		{"example.com/mine", "example.com/mine"},
	} {
		store := &model.Store{}
		w, err := NewWatcher(path, store, slog.New(slog.DiscardHandler), DefaultGuard)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		w.SetControllerName(tc.set)
		if err := w.Load(); err != nil {
			t.Fatal(err)
		}
		if got := store.Load().ControllerName(); got != tc.want {
			t.Errorf("SetControllerName(%q): first world answers to %q, want %q", tc.set, got, tc.want)
		}
		write("c2")
		if err := w.l.load(false); err != nil {
			t.Fatal(err)
		}
		if got := store.Load(); got.Cluster("c2") == nil || got.ControllerName() != tc.want {
			t.Errorf("SetControllerName(%q): reloaded world answers to %q (cluster c2 there: %v), want %q", tc.set, got.ControllerName(), got.Cluster("c2") != nil, tc.want)
		}
		write("c1")
	}
}
