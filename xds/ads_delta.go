package xds

import (
	"slices"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// deltaType is a delta stream's state for one resource type. What the
// proxy holds is described by have, the set it accepted last: for every
// subscribed name, have's version, except for fresh names (subscribed
// since), which it lacks. So a stream keeps no per-resource state of its
// own, and a change costs it the changed names only.
type deltaType struct {
	typeStream
	started bool
	fresh   map[string]struct{}
	initial map[string]string // initial_resource_versions, until the first response
	have    *resourceSet
	// sentFresh are the fresh names the last response carried: fresh again
	// if it is rejected.
	sentFresh map[string]struct{}
}

// explicit returns the explicit subscriptions as a map t owns.
func (t *deltaType) explicit() map[string]struct{} {
	if t.covers != nil {
		t.names = make(map[string]struct{}, len(t.covers.items))
		for n := range t.covers.items {
			t.names[n] = struct{}{}
		}
		t.covers = nil
	}
	if t.names == nil {
		t.names = map[string]struct{}{}
	}
	return t.names
}

// deltaRequest applies a request to t: the answer to the last response,
// then the subscription changes.
func (s *Server) deltaRequest(class string, node *corev3.Node, t *deltaType, req *discoveryv3.DeltaDiscoveryRequest, cur *resourceSet) {
	if t.waiting && req.GetResponseNonce() == t.nonce {
		if t.answered(s, class, node, req.GetResponseNonce(), req.GetErrorDetail()) {
			t.have = t.sent
		} else {
			for n := range t.sentFresh {
				t.addFresh(n)
			}
		}
		t.sentFresh = nil
	}
	if !t.started {
		t.started = true
		t.wildcard = len(req.GetResourceNamesSubscribe()) == 0 && wildcardByDefault(t.url)
		t.initial = req.GetInitialResourceVersions()
	}
	sub, unsub := req.GetResourceNamesSubscribe(), req.GetResourceNamesUnsubscribe()
	if len(sub) == 0 && len(unsub) == 0 {
		return
	}
	if t.names == nil && t.covers == nil && t.have == nil && !t.waiting && !t.wildcard && len(unsub) == 0 && cur != nil {
		// A first subscription to exactly the set (a gateway wants every
		// load assignment): no map of ten thousand names per stream.
		if sum, ok := s.codec.lists.sumOf(sub); ok && sum == cur.names() {
			t.covers = cur
			return
		}
	}
	for _, n := range sub {
		if n == "*" {
			t.wildcard = true
			continue
		}
		if m := t.explicit(); !hasName(m, n) {
			m[n] = struct{}{}
			if !t.wildcard && (t.have != nil || t.waiting) {
				// Only needed when the next response is not a complete one:
				// a proxy's first subscription names everything it wants.
				t.addFresh(n)
			}
		}
	}
	for _, n := range unsub {
		if n == "*" {
			t.wildcard = false
			continue
		}
		delete(t.explicit(), n)
		delete(t.fresh, n)
	}
	if cur != nil && len(t.names) == len(cur.items) && len(t.names) > 0 {
		for n := range t.names {
			if cur.items[n] == nil {
				return
			}
		}
		t.names, t.covers = nil, cur
	}
}

func hasName(m map[string]struct{}, n string) bool {
	_, ok := m[n]
	return ok
}

func (t *deltaType) addFresh(n string) {
	if t.fresh == nil {
		t.fresh = map[string]struct{}{}
	}
	t.fresh[n] = struct{}{}
}

// changes returns what t's next response carries, and whether one is due.
// whole: send is the whole set in order (cur.wire's).
func (t *deltaType) changes(cur *resourceSet) (send []*discoveryv3.Resource, removed []string, whole, due bool) {
	if t.waiting || cur == nil || !t.started {
		return nil, nil, false, false
	}
	first := t.have == nil && t.sent == nil
	if !first && t.have == cur && len(t.fresh) == 0 {
		return nil, nil, false, false
	}
	if !first && cur.version == t.nacked {
		return nil, nil, false, false // rejected: wait for a new version, fresh names included
	}
	sorted, _ := cur.wire()
	if t.have == nil {
		if t.initial == nil && (t.wildcard || t.covers == cur) {
			send, whole = sorted, true
		} else {
			for _, r := range sorted {
				if t.subscribed(r.Name) && t.initial[r.Name] != r.Version {
					send = append(send, r)
				}
			}
		}
		for n := range t.initial {
			if t.subscribed(n) && cur.items[n] == nil {
				removed = append(removed, n)
			}
		}
		for n := range t.names { // explicit subscriptions to what does not exist
			if _, claimed := t.initial[n]; !claimed && cur.items[n] == nil {
				removed = append(removed, n)
			}
		}
	} else {
		changed := cur.changedSince(t.have)
		for n := range t.fresh {
			changed = append(changed, n)
		}
		slices.Sort(changed)
		for i, n := range changed {
			if i > 0 && changed[i-1] == n || !t.subscribed(n) {
				continue
			}
			_, fresh := t.fresh[n]
			switch it := cur.items[n]; {
			case it != nil && (fresh || t.have.versionOf(n) != it.wire.Version):
				send = append(send, it.wire)
			case it == nil && (fresh || t.have.items[n] != nil):
				// Gone, or subscribed and absent: either way the proxy
				// learns it has none, rather than waiting for its
				// initial fetch timeout.
				removed = append(removed, n)
			}
		}
	}
	if t.have != nil { // built here; the complete first response is in order already
		slices.SortFunc(send, func(a, b *discoveryv3.Resource) int { return strings.Compare(a.Name, b.Name) })
	}
	slices.Sort(removed)
	if len(send) == 0 && len(removed) == 0 && !(first && t.wildcard) {
		t.have, t.fresh, t.initial = cur, nil, nil // nothing it asked for changed
		return nil, nil, false, false
	}
	return send, removed, whole, true
}

// deltaStream is a delta stream's per-type state.
type deltaStream struct {
	s      *Server
	class  string
	node   *corev3.Node
	byType map[string]*deltaType
	// nackLog limits the stream's NACK log lines.
	nackLog *logLimiter
}

func (s *Server) serveDelta(st discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesServer, done <-chan struct{}) error {
	h := &deltaStream{s: s, byType: map[string]*deltaType{}, nackLog: newLogLimiter(1, nackLogEvery)}
	err := runStream(s, st.Context(), done, true, st.Recv, st.SendMsg, h)
	s.nackSummary(h.nackLog, h.class, h.node)
	return err
}

func (h *deltaStream) bind(class string, node *corev3.Node) { h.class, h.node = class, node }

func (h *deltaStream) request(req *discoveryv3.DeltaDiscoveryRequest, snap *classSnapshot) {
	t := h.byType[req.GetTypeUrl()]
	if t == nil {
		t = &deltaType{typeStream: typeStream{url: req.GetTypeUrl(), nackLog: h.nackLog}}
		h.byType[t.url] = t
	}
	h.s.deltaRequest(h.class, h.node, t, req, snap.set(t.url))
}

func (h *deltaStream) next(url string, snap *classSnapshot, nonce string) (*discoveryv3.DeltaDiscoveryResponse, []byte, func(*reservation)) {
	t := h.byType[url]
	if t == nil {
		return nil, nil, nil
	}
	cur := snap.set(url)
	send, removed, whole, due := t.changes(cur)
	if !due {
		return nil, nil, nil
	}
	var shared []byte
	if whole {
		shared, send = cur.wholeBody(true), nil
	}
	resp := &discoveryv3.DeltaDiscoveryResponse{
		SystemVersionInfo: cur.version, Resources: send, RemovedResources: removed, TypeUrl: url, Nonce: nonce,
	}
	return resp, shared, func(budget *reservation) {
		prev := t.sent
		t.record(nonce, cur, budget)
		t.sentFresh, t.fresh, t.initial = t.fresh, nil, nil
		if url == resource.ClusterType && prev != nil {
			h.resendAssignments(snap, cur.changedSince(prev))
		}
	}
}

// resendAssignments makes the load assignments of changed clusters fresh:
// a changed cluster warms until it gets its assignment again (else until
// initial_fetch_timeout).
func (h *deltaStream) resendAssignments(snap *classSnapshot, clusters []string) {
	eds := h.byType[resource.EndpointType]
	assignments := snap.set(resource.EndpointType)
	if eds == nil || eds.have == nil || assignments == nil {
		return
	}
	for _, n := range clusters {
		if assignments.items[n] != nil && eds.subscribed(n) {
			eds.addFresh(n)
		}
	}
}

func (h *deltaStream) unanswered() *typeStream { return oldestUnanswered(h.byType) }

func (h *deltaStream) holds(url string) (*typeStream, *resourceSet) {
	if t := h.byType[url]; t != nil {
		return &t.typeStream, t.have
	}
	return nil, nil
}

func (h *deltaStream) releaseAll() {
	for _, t := range h.byType {
		t.releaseBudget()
	}
}
