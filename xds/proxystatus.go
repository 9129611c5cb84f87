package xds

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/causeway-dev/causeway/model"
)

// The proxy status (what `causeway proxy-status` shows): every open stream
// with, per type, the last response sent, ACKed and NACKed, and whether
// what its proxy holds is what Causeway would send it now. A stream copies
// its per-type state into its streamState after each turn of its loop
// (report), under a lock of its own; ProxyStatuses reads those copies and
// never touches a running stream's state, the class registry's lock (held
// during builds) or a snapshot's resources.

// SyncState says whether a proxy holds what Causeway would send it now.
type SyncState string

const (
	// Synced: the proxy holds the version Causeway would send now.
	Synced SyncState = "SYNCED"
	// Stale: the proxy holds an older version; a newer one is sent and
	// not answered yet, or about to be sent.
	Stale SyncState = "STALE"
	// NACKed: the proxy rejected the last response of the type and keeps
	// an older version; the rejected version is not sent again.
	NACKed SyncState = "NACKED"
	// NotSent: nothing of the type was sent on the stream (the proxy did
	// not ask for it, or its class has no snapshot).
	NotSent SyncState = "NOT SENT"
)

// MaxNACKMessage bounds the NACK message a stream keeps per type: Envoy's
// messages name every rejected resource, and a proxy controls their size.
const MaxNACKMessage = 1024

// ProxyStatus is one open ADS stream whose proxy has sent its first
// request. A node with several streams (a reconnect whose old stream has
// not ended yet, or several Envoys sharing a node id) has one ProxyStatus
// per stream.
type ProxyStatus struct {
	// StreamID tells the streams of one node apart (unique per server).
	StreamID int64
	// Delta: incremental ADS; otherwise state of the world.
	Delta  bool
	NodeID string
	// Class is the proxy class key; "invalid~<node id>" for a node whose
	// metadata is unusable (its Proxy is then zero).
	Class         string
	Proxy         model.Proxy
	ConnectedAt   time.Time
	RemoteAddress string
	// Types are the snapshot's types, clusters first, in the order
	// Causeway sends a change.
	Types []TypeStatus
}

// TypeStatus is one resource type of a stream.
type TypeStatus struct {
	TypeURL string
	// Requested: the proxy has asked for the type on this stream.
	Requested bool
	// Sent, ACKed and NACKed are the last response sent, accepted and
	// rejected (zero: none).
	Sent, ACKed, NACKed Response
	// NACKMessage is the last NACK's message, at most MaxNACKMessage bytes.
	NACKMessage string
	// Holds is the version the proxy is known to hold: the last it ACKed,
	// or a newer one that changed nothing it subscribes to.
	Holds string
	// Current is the version Causeway would send now: the type's version
	// in the class's published snapshot ("" when it has none).
	Current string
	Sync    SyncState
}

// Response is a response's version and nonce, and when it was sent or
// answered.
type Response struct {
	Version, Nonce string
	At             time.Time
}

// typeReport is what a stream reports of one type.
type typeReport struct {
	requested           bool
	sent, acked, nacked Response
	nackMessage         string
	holds               string
}

// numSnapshotTypes is len(snapshotTypes), an array length.
const numSnapshotTypes = 5

// report copies the stream's per-type state for ProxyStatuses. It runs on
// the stream's goroutine after each turn of its loop: a lock and a few
// string headers per type.
func (st *streamState) report(h interface {
	holds(url string) (*typeStream, *resourceSet)
}) {
	var next [numSnapshotTypes]typeReport
	for i, url := range snapshotTypes {
		t, set := h.holds(url)
		if t == nil {
			continue
		}
		next[i] = t.report
		next[i].requested = true
		if set != nil {
			next[i].holds = set.version
		}
	}
	st.rmu.Lock()
	st.reports = next
	st.rmu.Unlock()
}

// clipNACK bounds a NACK message to MaxNACKMessage bytes (cut at a rune
// boundary) in a copy of its own, so the request that carried it is not
// kept alive.
func clipNACK(s string) string {
	if len(s) <= MaxNACKMessage {
		return strings.Clone(s)
	}
	suffix := "…(" + strconv.Itoa(len(s)) + " bytes)"
	cut := MaxNACKMessage - len(suffix)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.Clone(s[:cut]) + suffix
}

// syncState compares what a proxy holds with what Causeway would send.
func syncState(r typeReport, current string) SyncState {
	switch {
	case r.sent.Nonce == "" && r.holds == "":
		return NotSent
	case current != "" && r.holds == current:
		return Synced
	case r.nacked.Nonce != "" && r.nacked.Nonce == r.sent.Nonce:
		return NACKed
	default:
		return Stale
	}
}

// ProxyStatuses returns every open stream whose proxy has sent its first
// request, sorted by node id, a node's newest stream first. It is safe to
// call at any time and costs a few small copies per stream.
func (s *Server) ProxyStatuses() []ProxyStatus {
	// Sorted before the copies are made: small entries sort fast.
	type entry struct {
		st   *streamState
		key  streamKey
		node string
	}
	s.smu.Lock()
	entries := make([]entry, 0, len(s.streams))
	out := make([]ProxyStatus, 0, len(s.streams))
	for sk, st := range s.streams {
		if st.class == "" {
			continue // no first request yet: no node
		}
		entries = append(entries, entry{st: st, key: sk, node: st.node.GetId()})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.node, b.node), b.st.opened.Compare(a.st.opened), cmp.Compare(b.key.id, a.key.id))
	})
	for _, e := range entries {
		out = append(out, ProxyStatus{
			StreamID: e.key.id, Delta: e.key.delta, NodeID: e.node, Class: e.st.class, Proxy: e.st.proxy,
			ConnectedAt: e.st.opened, RemoteAddress: e.st.peer,
		})
	}
	s.smu.Unlock()

	current := map[string]*classSnapshot{}
	types := make([]TypeStatus, len(out)*numSnapshotTypes)
	for i := range out {
		p := &out[i]
		snap, ok := current[p.Class]
		if !ok {
			snap = s.cache.current(p.Class)
			current[p.Class] = snap
		}
		st := entries[i].st
		st.rmu.Lock()
		reports := st.reports
		st.rmu.Unlock()
		p.Types = types[i*numSnapshotTypes : (i+1)*numSnapshotTypes : (i+1)*numSnapshotTypes]
		for j, url := range snapshotTypes {
			r, cur := reports[j], snap.GetVersion(url)
			p.Types[j] = TypeStatus{
				TypeURL: url, Requested: r.requested, Sent: r.sent, ACKed: r.acked, NACKed: r.nacked,
				NACKMessage: r.nackMessage, Holds: r.holds, Current: cur, Sync: syncState(r, cur),
			}
		}
	}
	return out
}
