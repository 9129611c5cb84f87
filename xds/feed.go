package xds

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
)

// feeds hold each class's published snapshot for its streams. Publishing
// is a pointer swap plus closing a channel: it never waits for a stream,
// and each stream works out on its own goroutine what its proxy lacks.
type feeds struct {
	mu     sync.Mutex
	byName map[string]*feed
}

// feed is one class's current publication.
type feed struct{ cur atomic.Pointer[publication] }

// publication is a published snapshot (nil: none yet) and a channel closed
// when a newer one replaces it.
type publication struct {
	snap *classSnapshot
	next chan struct{}
}

func newFeeds() *feeds { return &feeds{byName: map[string]*feed{}} }

// get returns key's feed, creating an empty one.
func (f *feeds) get(key string) *feed {
	f.mu.Lock()
	defer f.mu.Unlock()
	fd := f.byName[key]
	if fd == nil {
		fd = &feed{}
		fd.cur.Store(&publication{next: make(chan struct{})})
		f.byName[key] = fd
	}
	return fd
}

// SetSnapshot publishes snap as key's snapshot and wakes its streams.
func (f *feeds) SetSnapshot(key string, snap *classSnapshot) {
	old := f.get(key).cur.Swap(&publication{snap: snap, next: make(chan struct{})})
	close(old.next)
}

// current returns key's published snapshot, nil if none.
func (f *feeds) current(key string) *classSnapshot {
	f.mu.Lock()
	fd := f.byName[key]
	f.mu.Unlock()
	if fd == nil {
		return nil
	}
	return fd.cur.Load().snap
}

// ClearSnapshot forgets key (its last stream closed).
func (f *feeds) ClearSnapshot(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.byName, key)
}

// GetSnapshot returns key's published snapshot.
func (f *feeds) GetSnapshot(key string) (*classSnapshot, error) {
	f.mu.Lock()
	fd := f.byName[key]
	f.mu.Unlock()
	if fd == nil || fd.cur.Load().snap == nil {
		return nil, fmt.Errorf("no snapshot for class %q", key)
	}
	return fd.cur.Load().snap, nil
}

// GetStatusKeys returns the keys of every feed, sorted.
func (f *feeds) GetStatusKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.byName))
	for k := range f.byName {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
