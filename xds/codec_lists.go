package xds

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// nameLists remembers the last few long lists decoded, and their name
// sums, for requests that repeat them. The lists are shared: readers never
// modify a request's names.
//
// After a publication, hundreds of proxies send the same new list within
// milliseconds. One request decodes it (the leader); the others naming it
// wait for that decode (acquire), and at most maxListDecodes different
// lists are decoded at once (slots), so a burst costs one decoded list per
// distinct list, not one per request.
type nameLists struct {
	mu      sync.Mutex
	entries [8]nameList
	next    int
	flights map[listKey]*listFlight
	// slots bounds the long lists decoded at once.
	slots chan struct{}
	// inDecode and maxInDecode count the decodes under way, and decodes
	// the decodes, for tests.
	inDecode, maxInDecode atomic.Int32
	decodes               atomic.Int64
}

// listDecodeHook, if set (tests), runs in every decode of a long list,
// while it holds its slot.
var listDecodeHook func()

// maxListDecodes bounds the long lists decoded at once: decoding is CPU
// work, so more at once than cores only holds more half-built lists.
var maxListDecodes = max(2, runtime.GOMAXPROCS(0))

func newNameLists() *nameLists {
	return &nameLists{flights: map[listKey]*listFlight{}, slots: make(chan struct{}, maxListDecodes)}
}

type nameList struct {
	key   listKey
	names []string
	sum   nameSum
}

// listFlight is a decode of a list under way; done closes when names (nil
// if the decode failed) is set.
type listFlight struct {
	done  chan struct{}
	names []string
}

// acquire returns the decoded list for k when there is one, waiting for a
// decode of it under way; otherwise it returns a flight, and the caller
// decodes the list and must call finish.
func (l *nameLists) acquire(k listKey) ([]string, *listFlight) {
	for {
		l.mu.Lock()
		if names := l.getLocked(k); names != nil {
			l.mu.Unlock()
			return names, nil
		}
		f := l.flights[k]
		if f == nil {
			f = &listFlight{done: make(chan struct{})}
			l.flights[k] = f
			l.mu.Unlock()
			return nil, f
		}
		l.mu.Unlock()
		<-f.done
		if f.names != nil {
			return f.names, nil
		}
		// The leader failed (malformed request): try to lead.
	}
}

// finish ends a flight with its decoded list (nil: failed), remembering
// the list and waking the requests waiting for it.
func (l *nameLists) finish(k listKey, f *listFlight, names []string) {
	if names != nil {
		l.put(k, names)
	}
	l.mu.Lock()
	delete(l.flights, k)
	l.mu.Unlock()
	f.names = names
	close(f.done)
}

// decoding counts a decode starting (+1) or ending (-1).
func (l *nameLists) decoding(delta int32) {
	if delta > 0 {
		l.decodes.Add(1)
		if listDecodeHook != nil {
			defer listDecodeHook()
		}
	}
	n := l.inDecode.Add(delta)
	for {
		m := l.maxInDecode.Load()
		if n <= m || l.maxInDecode.CompareAndSwap(m, n) {
			return
		}
	}
}

func (l *nameLists) get(k listKey) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.getLocked(k)
}

func (l *nameLists) getLocked(k listKey) []string {
	for _, e := range l.entries {
		if e.names != nil && e.key == k {
			return e.names
		}
	}
	return nil
}

func (l *nameLists) put(k listKey, names []string) {
	var sum nameSum
	for _, n := range names {
		sum.add(n)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries[l.next] = nameList{key: k, names: names, sum: sum}
	l.next = (l.next + 1) % len(l.entries)
}

// sumOf returns the name sum of a list decoded as shared, by identity.
func (l *nameLists) sumOf(names []string) (nameSum, bool) {
	if l == nil || len(names) == 0 {
		return nameSum{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if len(e.names) == len(names) && &e.names[0] == &names[0] {
			return e.sum, true
		}
	}
	return nameSum{}, false
}
