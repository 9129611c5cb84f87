package xds

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/causeway-dev/causeway/model"
)

// class is one proxy class: every proxy with the same identity (role,
// cluster, locality, bind address) shares its snapshot.
type class struct {
	key     string
	proxy   model.Proxy
	invalid bool // node metadata unusable: never built
	streams int
	// version is the last published snapshot version; rejected the last
	// version that failed validation (so it is reported once).
	version, rejected string
	leaf              *leaf // the certificate in the published snapshot
	// snap is the published snapshot and world the world it (or the last
	// build that changed nothing) was built from: the endpoint fast path
	// diffs against it.
	snap  *classSnapshot
	world *model.Snapshot
}

// streamKey tells streams apart: the state-of-the-world and delta servers
// number their streams independently.
type streamKey struct {
	delta bool
	id    int64
}

// streamState is a stream's class binding, under Server.smu.
type streamState struct {
	class string // "" until the first request
	raw   string // the node's pin key
	node  *corev3.Node
	// settled is the last publication the stream had sent everything due
	// of and its proxy had answered (ACK or NACK); the stream writes it
	// without smu.
	settled atomic.Pointer[classSnapshot]
	// proxy is the class's identity (zero for an invalid class), peer the
	// remote address and opened when the stream opened: for the proxy
	// status, like reports, which the stream writes under rmu.
	proxy   model.Proxy
	peer    string
	opened  time.Time
	rmu     sync.Mutex
	reports [numSnapshotTypes]typeReport
}

// pin fixes the class of a node identity while any stream with it is open.
// A node without a locality takes its cluster's locality from the world, so
// a world update could otherwise move later requests of an open stream to a
// class whose watches nobody answers.
type pin struct {
	key     string
	streams int
}

const invalidPrefix = "invalid~"

// rawKey identifies a node by its own fields only (no world lookups).
func rawKey(node *corev3.Node) string {
	p, err := model.ProxyFromNode(node, nil)
	if err != nil {
		return invalidPrefix + node.GetId()
	}
	return p.ClassKey()
}

// classify resolves a node to its class against the world. A node with bad
// metadata gets a key of its own that never receives a snapshot.
func classify(node *corev3.Node, world *model.Snapshot) (string, model.Proxy, error) {
	p, err := model.ProxyFromNode(node, world)
	if err != nil {
		return invalidPrefix + node.GetId(), p, err
	}
	return p.ClassKey(), p, nil
}

// register assigns a stream to its node's class on the stream's first
// request, building the class's snapshot if it has none, so the watch the
// request opens is answered at once.
func (s *Server) register(sk streamKey, node *corev3.Node) string {
	raw := rawKey(node)
	s.mu.Lock()
	defer s.mu.Unlock()

	s.smu.Lock()
	p := s.pins[raw]
	s.smu.Unlock()
	var key string
	var proxy model.Proxy
	var err error
	if p != nil && s.classes[p.key] != nil {
		key = p.key
	} else {
		key, proxy, err = classify(node, s.store.Load())
	}

	c := s.classes[key]
	if c == nil {
		c = &class{key: key, proxy: proxy, invalid: err != nil}
		s.classes[key] = c
		s.metrics.classes.Inc()
	}
	c.streams++
	if c.invalid {
		s.metrics.invalid.Inc()
		limited(s.logs.conns, s.log.Warn, "xDS node has unusable metadata; it gets no configuration",
			"node", clip(node.GetId()), "class", clip(key), "error", clip(err.Error()))
	} else {
		s.metrics.connected.WithLabelValues(string(c.proxy.Role), c.proxy.Cluster).Inc()
		limited(s.logs.conns, s.log.Info, "proxy connected", "node", clip(node.GetId()), "class", clip(key), "streams", c.streams)
	}

	s.smu.Lock()
	// Look again: the pin may have been dropped meanwhile by a closing
	// stream (pins are only created under mu, which this holds).
	if p = s.pins[raw]; p == nil {
		p = &pin{key: key}
		s.pins[raw] = p
	}
	p.streams++
	if st := s.streams[sk]; st != nil {
		st.class, st.raw, st.node, st.proxy = key, raw, node, c.proxy
	}
	s.smu.Unlock()

	if !c.invalid && c.version == "" {
		s.buildLocked(c, s.store.Load())
	}
	return key
}

// unregister drops a closed stream; the last stream of a class takes the
// class's snapshot and cache status with it.
func (s *Server) unregister(sk streamKey) {
	s.smu.Lock()
	st := s.streams[sk]
	delete(s.streams, sk)
	if st == nil || st.class == "" {
		s.smu.Unlock()
		return
	}
	if p := s.pins[st.raw]; p != nil {
		if p.streams--; p.streams == 0 {
			delete(s.pins, st.raw)
		}
	}
	s.smu.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.classes[st.class]
	if c == nil {
		return
	}
	c.streams--
	if !c.invalid {
		s.metrics.connected.WithLabelValues(string(c.proxy.Role), c.proxy.Cluster).Dec()
		limited(s.logs.conns, s.log.Info, "proxy disconnected", "node", clip(st.node.GetId()), "class", clip(c.key), "streams", c.streams)
	}
	if c.streams > 0 {
		return
	}
	delete(s.classes, c.key)
	s.conv.forget(c.key)
	s.metrics.snapshotBytes.DeleteLabelValues(c.key)
	s.metrics.classes.Dec()
	s.metrics.diagnostics.DeleteLabelValues(c.key)
	s.cache.ClearSnapshot(c.key)
	s.forgetCertLocked(c)
}

// ActiveClasses returns the keys of classes with open streams, sorted.
func (s *Server) ActiveClasses() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.classes))
	for k := range s.classes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
