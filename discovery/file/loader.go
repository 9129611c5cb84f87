package file

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/causeway-dev/causeway/model"
)

// loader reads the file and publishes it when its content is new, valid,
// not empty and, when its guard asks for it, confirmed.
type loader struct {
	path  string
	store *model.Store
	log   *slog.Logger
	guard Guard
	// controllerName is the one the published worlds answer to (controller.go).
	controllerName string
	// last identifies the content of the last load attempt, valid or not
	// (when haveLast), so unrelated directory events neither republish nor
	// repeat errors. A digest, not the content: the file may be large.
	last     docKey
	haveLast bool
	// docs keeps the documents of the last load attempt parsed, so that an
	// edit costs the parse of the documents it changed.
	docs docCache
	// held is a world waiting for its file to stay unchanged (guard).
	held *heldWorld
	// unstable: the last read found the file changing (logged once).
	unstable bool
}

// heldWorld is a parsed world not published yet, and why.
type heldWorld struct {
	key    docKey
	snap   *model.Snapshot
	since  time.Time
	reason string
}

// errEmpty is a world file without a single document.
func errEmpty(path string) error {
	return fmt.Errorf("%s: the world file has no documents (it is empty, or only whitespace and comments): an empty world would remove every route, so it is never served", path)
}

// load reads and publishes the file; first: the first load, whose error
// is the caller's to report (there is no last good world to keep) and
// which no guard holds. A file that kept changing while being read
// returns an error wrapping errUnstable: the caller tries again later.
func (l *loader) load(first bool) error {
	data, err := readStable(l.path)
	if errors.Is(err, errUnstable) {
		reloads.WithLabelValues("unstable").Inc()
		if !l.unstable && !first {
			l.log.Warn("world file is being written, waiting for it to stay unchanged", "path", l.path, "error", err.Error())
		}
		l.unstable = true
		return err
	}
	l.unstable = false
	var key docKey
	if err == nil {
		key = keyOf(data)
		if l.haveLast && key == l.last {
			return nil
		}
	}
	// New content, whatever it holds, supersedes a held world.
	l.setHeld(nil)
	var (
		snap *model.Snapshot
		docs int
	)
	if err == nil {
		l.last, l.haveLast = key, true
		snap, docs, err = parseCounting(l.path, data, &l.docs)
		if err == nil {
			snap = snap.WithControllerName(l.controllerName)
		}
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
	if docs == 0 {
		err := errEmpty(l.path)
		lastLoadSuccess.Set(0)
		reloads.WithLabelValues("refused").Inc()
		if !first {
			l.log.Error("world file refused, keeping the last good world", "path", l.path, "error", err.Error())
		}
		return err
	}
	if !first {
		if reason := l.guard.review(l.store.Load(), snap, data); reason != "" {
			l.setHeld(&heldWorld{key: key, snap: snap, since: time.Now(), reason: reason})
			reloads.WithLabelValues("held").Inc()
			l.log.Warn("world file change held: it is published if the file stays unchanged for the confirm delay, and replaced by any newer version",
				append([]any{"path", l.path, "reason", reason, "confirmDelay", l.guard.ConfirmDelay.String()}, worldSize(snap)...)...)
			return nil
		}
	}
	l.publish(snap)
	return nil
}

// confirmHeld publishes the held world if the file still holds it; a file
// that changed since is loaded as any change.
func (l *loader) confirmHeld() error {
	h := l.held
	if h == nil {
		return nil
	}
	data, err := readStable(l.path)
	if err != nil || keyOf(data) != h.key {
		l.setHeld(nil)
		l.haveLast = false
		return l.load(false)
	}
	l.setHeld(nil)
	l.log.Warn("world file unchanged since it was held, publishing it", "path", l.path,
		"reason", h.reason, "heldFor", time.Since(h.since).Round(time.Millisecond).String())
	l.publish(h.snap)
	return nil
}

// heldUntil is when the held world is due for confirmation; ok is false
// when none is held.
func (l *loader) heldUntil() (time.Time, bool) {
	if l.held == nil {
		return time.Time{}, false
	}
	return l.held.since.Add(l.guard.ConfirmDelay), true
}

func (l *loader) setHeld(h *heldWorld) {
	l.held = h
	if h != nil {
		held.Set(1)
	} else {
		held.Set(0)
	}
}

func (l *loader) publish(snap *model.Snapshot) {
	lastLoadSuccess.Set(1)
	reloads.WithLabelValues("success").Inc()
	l.store.Publish(snap)
	l.log.Info("world loaded", append([]any{"path", l.path}, worldSize(snap)...)...)
}

// worldSize is log attributes counting a world's objects.
func worldSize(snap *model.Snapshot) []any {
	return []any{"clusters", len(snap.Clusters()), "services", len(snap.Services()),
		"virtualDestinations", len(snap.VirtualDestinations()), "gateways", len(snap.Gateways()), "httpRoutes", len(snap.HTTPRoutes())}
}
