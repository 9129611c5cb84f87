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
//
// Watch watches the file's directory rather than the file: editors and
// Kubernetes ConfigMap mounts replace a file by renaming another over it,
// which ends a watch on the file itself.
func Watch(ctx context.Context, path string, store *model.Store, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	defer w.Close()
	// Watch before the first read so that no change between the two is missed.
	if err := w.Add(filepath.Dir(path)); err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	l := &loader{path: path, store: store, log: log}
	if err := l.load(); err != nil {
		return err
	}

	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("file watcher closed")
			}
			// Any event in the directory may replace the file (symlink
			// swaps touch other names); load skips unchanged content.
			log.Debug("world file directory changed", "event", ev.String())
			timer.Reset(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("file watcher closed")
			}
			log.Warn("watching world file", "path", path, "error", err)
		case <-timer.C:
			_ = l.load() // logged by load; the last good world stays.
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

func (l *loader) load() error {
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
