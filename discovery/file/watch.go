package file

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/causeway-dev/causeway/model"
)

// debounce lets an editor finish writing (truncate, write, rename) before
// the file is read.
const debounce = 100 * time.Millisecond

var (
	lastLoadSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "causeway_world_last_load_success",
		Help: "1 if the last attempt to load the world file succeeded, 0 if it failed (the last good world stays published).",
	})
	reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "causeway_world_reloads_total",
		Help: "World file loads by result (success or failure).",
	}, []string{"result"})
)

// RegisterMetrics registers the world file metrics on reg, or on the
// Prometheus default registerer when reg is nil. Registering twice on the
// same registry is not an error.
func RegisterMetrics(reg prometheus.Registerer) error {
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	for _, c := range []prometheus.Collector{lastLoadSuccess, reloads} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return err
		}
	}
	return nil
}

// Watch loads the world file at path, publishes it to store and then
// reloads it whenever it changes, until ctx is done (it then returns nil).
// A failing first load is returned as an error. A later file that fails to
// load is logged and the last good world stays published.
func Watch(ctx context.Context, path string, store *model.Store, log *slog.Logger) error {
	w, err := NewWatcher(path, store, log)
	if err != nil {
		return err
	}
	if err := w.Load(); err != nil {
		w.Close()
		return err
	}
	return w.Run(ctx)
}

// Watcher keeps a store's world in step with a file: Load once (a serve
// refuses to start on a world that does not load), then Run. One watcher
// does both, so the first load's parse is the cache of the reloads: a
// separate first load would parse a large world twice at startup.
//
// It watches the file's directory rather than the file: editors and
// Kubernetes ConfigMap mounts replace a file by renaming another over it,
// which ends a watch on the file itself.
type Watcher struct {
	fs  *fsnotify.Watcher
	l   *loader
	log *slog.Logger
}

// NewWatcher starts watching the directory of path; nothing is read yet.
func NewWatcher(path string, store *model.Store, log *slog.Logger) (*Watcher, error) {
	if log == nil {
		log = slog.Default()
	}
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	// Watch before the first read so that no change between the two is missed.
	if err := fs.Add(filepath.Dir(path)); err != nil {
		fs.Close()
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	return &Watcher{fs: fs, l: &loader{path: path, store: store, log: log}, log: log}, nil
}

// Load reads the file and publishes its world; a file that does not load
// is returned as the error (and not logged: the caller reports it).
func (w *Watcher) Load() error {
	return w.l.load(true)
}

// Close stops watching; Run closes the watcher itself when it returns.
func (w *Watcher) Close() error { return w.fs.Close() }

// Run reloads the file whenever its directory changes, until ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	defer w.fs.Close()
	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fs.Events:
			if !ok {
				return errors.New("file watcher closed")
			}
			// Any event in the directory may replace the file (symlink
			// swaps touch other names); load skips unchanged content.
			w.log.Debug("world file directory changed", "event", ev.String())
			timer.Reset(debounce)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return errors.New("file watcher closed")
			}
			w.log.Warn("watching world file", "path", w.l.path, "error", err)
		case <-timer.C:
			_ = w.l.load(false) // logged by load; the last good world stays.
		}
	}
}

// loader reads the file and publishes it when its content is new and valid.
type loader struct {
	path  string
	store *model.Store
	log   *slog.Logger
	// last identifies the content of the last load attempt, valid or not
	// (when haveLast), so unrelated directory events neither republish nor
	// repeat errors. A digest, not the content: the file may be large.
	last     docKey
	haveLast bool
	// docs keeps the documents of the last load attempt parsed, so that an
	// edit costs the parse of the documents it changed.
	docs docCache
}

// load reads and publishes the file; first: the first load, whose error
// is the caller's to report (there is no last good world to keep).
func (l *loader) load(first bool) error {
	data, err := readWorld(l.path)
	var key docKey
	if err == nil {
		key = keyOf(data)
		if l.haveLast && key == l.last {
			return nil
		}
	}
	var snap *model.Snapshot
	if err == nil {
		l.last, l.haveLast = key, true
		snap, err = parseWithCache(l.path, data, &l.docs)
	} else {
		l.haveLast = false
	}
	if err != nil {
		lastLoadSuccess.Set(0)
		reloads.WithLabelValues("failure").Inc()
		if first {
			return err
		}
		l.log.Error("world file not loaded, keeping the last good world", "path", l.path, "error", err.Error())
		return err
	}
	lastLoadSuccess.Set(1)
	reloads.WithLabelValues("success").Inc()
	l.store.Publish(snap)
	l.log.Info("world loaded", "path", l.path, "clusters", len(snap.Clusters()), "services", len(snap.Services()),
		"virtualDestinations", len(snap.VirtualDestinations()), "gateways", len(snap.Gateways()), "httpRoutes", len(snap.HTTPRoutes()))
	return nil
}
