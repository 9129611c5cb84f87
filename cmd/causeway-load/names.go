package main

import (
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
)

// EDS names are shared across the fleet: 1,000 clients each holding its
// own 10,000 names (a request list, or a set of subscribed and received
// names) cost hundreds of MiB. Delta clients keep bitsets of ids from one
// table; the lists clients request (and their encoding) are shared by
// every client asking for the same list.

// nameTable numbers names.
type nameTable struct {
	mu  sync.RWMutex
	ids map[string]int32
}

// id returns b's number, adding it if new.
func (t *nameTable) id(b []byte) int32 {
	t.mu.RLock()
	id, ok := t.ids[string(b)]
	t.mu.RUnlock()
	if ok {
		return id
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[string(b)]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = map[string]int32{}
	}
	id = int32(len(t.ids))
	t.ids[string(b)] = id
	return id
}

// bitset is a set of name ids.
type bitset []uint64

// add adds id and reports whether it was new.
func (s *bitset) add(id int32) bool {
	w, bit := int(id/64), uint64(1)<<(id%64)
	for len(*s) <= w {
		*s = append(*s, 0)
	}
	if (*s)[w]&bit != 0 {
		return false
	}
	(*s)[w] |= bit
	return true
}

// edsList is a list of EDS names a state-of-the-world client requests,
// with its encoding as DiscoveryRequest.resource_names (field 3).
type edsList struct {
	names []string
	wire  []byte
}

func newEDSList(names [][]byte) *edsList {
	l := &edsList{names: make([]string, len(names))}
	for i, n := range names {
		l.names[i] = string(n)
		l.wire = protowire.AppendTag(l.wire, 3, protowire.BytesType)
		l.wire = protowire.AppendBytes(l.wire, n)
	}
	return l
}

func (l *edsList) len() int {
	if l == nil {
		return 0
	}
	return len(l.names)
}

// same reports whether l and m hold the same names (nil is empty).
func (l *edsList) same(m *edsList) bool {
	if l == m {
		return true
	}
	if l.len() != m.len() {
		return false
	}
	for i := range l.len() {
		if l.names[i] != m.names[i] {
			return false
		}
	}
	return true
}

func (l *edsList) equal(names [][]byte) bool {
	if l.len() != len(names) {
		return false
	}
	for i, n := range names {
		if l.names[i] != string(n) {
			return false
		}
	}
	return true
}

// edsLists hands out one shared edsList per distinct list: clients sent
// the same clusters get the same one. It keeps the few lists made last
// (state-of-the-world and delta clients may see the clusters in different
// orders, and a change makes a new list).
type edsLists struct {
	mu     sync.Mutex
	recent []*edsList
}

const recentLists = 4

func (s *edsLists) share(names [][]byte) *edsList {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.recent {
		if l.equal(names) {
			return l
		}
	}
	l := newEDSList(names)
	s.recent = append(s.recent, l)
	if len(s.recent) > recentLists {
		s.recent = s.recent[1:]
	}
	return l
}
