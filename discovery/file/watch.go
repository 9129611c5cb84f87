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

// A burst of changes to the world file is loaded once it has been quiet
// for watchQuiet (an editor's truncate, write and rename), and at the
// latest watchMaxWait after its first change however long the burst: a
// file written over and over is still loaded every watchMaxWait.
const (
	watchQuiet   = 100 * time.Millisecond
	watchMaxWait = time.Second
)

// watchErrorLogEvery bounds the log of the file watcher's own errors (a
// queue overflow repeats while events flood in).
const watchErrorLogEvery = 10 * time.Second

var (
	lastLoadSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "causeway_world_last_load_success",
		Help: "1 if the last attempt to load the world file succeeded, 0 if it failed (the last good world stays published).",
	})
	reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "causeway_world_reloads_total",
		Help: "World file loads by result: success (published), failure (invalid; the last good world stays), refused (no documents; the last good world stays), held (waiting for the file to stay unchanged, see --world-confirm-delay) or unstable (the file changed while being read; read again later).",
	}, []string{"result"})
	held = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "causeway_world_held",
		Help: "1 while a new world read from the world file is held, waiting for the file to stay unchanged before it is published (see --world-shrink-threshold).",
	})
)

// RegisterMetrics registers the world file metrics on reg, or on the
// Prometheus default registerer when reg is nil. Registering twice on the
// same registry is not an error.
func RegisterMetrics(reg prometheus.Registerer) error {
	if reg == nil {
		reg = prometheus.DefaultRegisterer
	}
	for _, c := range []prometheus.Collector{lastLoadSuccess, reloads, held} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return err
		}
	}
	return nil
}

// Watch loads the world file at path, publishes it to store and then
// reloads it whenever it changes, guarded by DefaultGuard, until ctx is
// done (it then returns nil). A failing first load is returned as an
// error. A later file that fails to load is logged and the last good
// world stays published.
func Watch(ctx context.Context, path string, store *model.Store, log *slog.Logger) error {
	w, err := NewWatcher(path, store, log, DefaultGuard)
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
// It watches the directories of the file and of the symlinks leading to
// it, not the file: editors and Kubernetes ConfigMap mounts replace a file
// by renaming another over it, which ends a watch on the file itself. Of
// their events it takes only those naming the file or a symlink on the
// way (watchSet): other files there (a log written every few
// milliseconds, even serve's own) neither delay nor cause a reload.
type Watcher struct {
	fs  *fsnotify.Watcher
	l   *loader
	log *slog.Logger
	set watchSet
	// errLogged is when the watcher's last error was logged.
	errLogged time.Time
}

// NewWatcher starts watching path; nothing is read yet. guard decides
// which reloads wait for confirmation (the first load is never held).
func NewWatcher(path string, store *model.Store, log *slog.Logger, guard Guard) (*Watcher, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := guard.Check(); err != nil {
		return nil, err
	}
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	w := &Watcher{fs: fs, l: &loader{path: path, store: store, log: log, guard: guard}, log: log,
		set: watchSet{dirs: map[string]bool{}, names: map[string]bool{}}}
	// Watch before the first read so that no change between the two is missed.
	if err := w.arm(); err != nil {
		fs.Close()
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	return w, nil
}

// arm watches the directories of path's watchSet as it is now, and no
// others. Only the file's own directory must be watchable.
func (w *Watcher) arm() error {
	ws := resolveWatchSet(w.l.path)
	own := w.l.path
	if abs, err := filepath.Abs(own); err == nil {
		own = abs
	}
	own = realDir(filepath.Dir(own))
	for d := range ws.dirs {
		if w.set.dirs[d] {
			continue
		}
		if err := w.fs.Add(d); err != nil {
			if d == own {
				return err
			}
			w.log.Warn("watching the target of the world file's symlink", "path", w.l.path, "dir", d, "error", err.Error())
			delete(ws.dirs, d) // tried again next time
		}
	}
	for d := range w.set.dirs {
		if !ws.dirs[d] {
			// Already gone when the directory was removed (an old
			// ConfigMap version): nothing to do then.
			_ = w.fs.Remove(d)
		}
	}
	w.set = ws
	return nil
}

// Load reads the file and publishes its world; a file that does not load
// is returned as the error (and not logged: the caller reports it).
func (w *Watcher) Load() error {
	return w.l.load(true)
}

// Close stops watching; Run closes the watcher itself when it returns.
func (w *Watcher) Close() error { return w.fs.Close() }

// Run reloads the file whenever it changes, until ctx is done.
func (w *Watcher) Run(ctx context.Context) error {
	defer w.fs.Close()
	reload := time.NewTimer(time.Hour)
	reload.Stop()
	defer reload.Stop()
	confirm := time.NewTimer(time.Hour)
	confirm.Stop()
	defer confirm.Stop()
	// burst is when the first change not loaded yet came (zero: none).
	var burst time.Time
	changes := 0
	schedule := func() {
		now := time.Now()
		if burst.IsZero() {
			burst = now
		}
		reload.Reset(min(watchQuiet, burst.Add(watchMaxWait).Sub(now)))
	}
	scheduleConfirm := func() {
		if until, ok := w.l.heldUntil(); ok {
			confirm.Reset(time.Until(until))
		} else {
			confirm.Stop()
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fs.Events:
			if !ok {
				return errors.New("file watcher closed")
			}
			// Not logged: a log written into this directory would log
			// its own writes.
			if !w.set.names[filepath.Clean(ev.Name)] {
				continue
			}
			changes++
			schedule()
		case err, ok := <-w.fs.Errors:
			if !ok {
				return errors.New("file watcher closed")
			}
			if time.Since(w.errLogged) >= watchErrorLogEvery {
				w.errLogged = time.Now()
				w.log.Warn("watching world file", "path", w.l.path, "error", err.Error())
			}
			// Events may have been lost (a queue overflow): read the file.
			schedule()
		case <-reload.C:
			w.log.Debug("world file changed, reloading", "path", w.l.path, "events", changes)
			burst, changes = time.Time{}, 0
			// A ConfigMap update swaps a symlink: follow it before reading.
			if err := w.arm(); err != nil {
				w.log.Warn("watching world file", "path", w.l.path, "error", err.Error())
			}
			if err := w.l.load(false); errors.Is(err, errUnstable) {
				schedule()
			}
			scheduleConfirm()
		case <-confirm.C:
			if err := w.l.confirmHeld(); errors.Is(err, errUnstable) {
				schedule()
			}
			scheduleConfirm()
		}
	}
}
