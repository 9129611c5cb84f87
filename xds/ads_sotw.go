package xds

import (
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// sotwType is a state-of-the-world stream's state for one resource type.
type sotwType struct {
	typeStream
	sum     nameSum // of the requested names
	renamed bool    // the names changed since the last response
	// resend are load assignments to send again though unchanged: their
	// cluster changed, and Envoy warms a changed cluster until it gets
	// its assignment (else only after initial_fetch_timeout).
	resend map[string]struct{}
	acked  *resourceSet // what the proxy accepted last
}

// sotwRequest applies a request to t. Requests that answer an older
// response than the last are ignored, as the protocol says.
func (s *Server) sotwRequest(class string, node *corev3.Node, t *sotwType, req *discoveryv3.DiscoveryRequest, cur *resourceSet) {
	if t.nonce != "" && req.GetResponseNonce() != t.nonce {
		return
	}
	names := req.GetResourceNames()
	wildcard := (len(names) == 0 && wildcardByDefault(t.url)) || slices.Contains(names, "*")
	sum, ok := s.codec.lists.sumOf(names)
	for i := 0; !ok && i < len(names); i++ {
		sum.add(names[i])
	}
	t.renamed = t.renamed || wildcard != t.wildcard || sum != t.sum
	t.wildcard, t.sum, t.names, t.covers = wildcard, sum, nil, nil
	if !wildcard {
		if cur != nil && sum == cur.names() {
			t.covers = cur
		} else {
			t.names = make(map[string]struct{}, len(names))
			for _, n := range names {
				t.names[n] = struct{}{}
			}
		}
	}
	switch {
	case t.nonce != "" && t.waiting:
		if t.answered(s, class, node, req.GetResponseNonce(), req.GetErrorDetail()) {
			t.acked = t.sent
		}
	case t.nonce == "" && cur != nil && req.GetVersionInfo() == cur.version:
		// A reconnecting proxy that has the current version.
		t.sent, t.acked, t.renamed = cur, cur, false
	}
}

// resources returns what t's next response carries, and whether one is
// due. Responses are complete, except for load assignments: after the
// first, they carry only the changed ones, which the protocol allows for
// every type but listeners and clusters, and Envoy merges into what it has
// (a cluster whose assignment is absent keeps its endpoints). That keeps
// an endpoint change as cheap for state-of-the-world proxies as for delta.
//
// A response carrying the whole set says so (whole) rather than listing it:
// the stream sends the set's shared encoding.
func (t *sotwType) resources(cur *resourceSet) (anys []*anypb.Any, whole, due bool) {
	if t.waiting || cur == nil {
		return nil, false, false
	}
	if t.sent != nil && !t.renamed && len(t.resend) == 0 && (cur.version == t.sent.version || cur.version == t.nacked) {
		return nil, false, false
	}
	full := t.sent == nil || t.renamed || t.acked == nil || t.url != resource.EndpointType
	sorted, _ := cur.wire()
	switch {
	case full && (t.wildcard || t.covers == cur):
		return nil, true, true
	case full:
		for _, r := range sorted {
			if t.subscribed(r.Name) {
				anys = append(anys, r.Resource)
			}
		}
		return anys, false, true
	}
	changed := cur.changedSince(t.acked)
	for n := range t.resend {
		changed = append(changed, n)
	}
	slices.Sort(changed)
	for i, n := range changed {
		if i > 0 && changed[i-1] == n {
			continue
		}
		_, again := t.resend[n]
		if it := cur.items[n]; it != nil && t.subscribed(n) && (again || t.acked.versionOf(n) != it.wire.Version) {
			anys = append(anys, it.wire.Resource)
		}
	}
	if len(anys) == 0 {
		t.sent, t.acked = cur, cur // nothing it asked for changed
		return nil, false, false
	}
	return anys, false, true
}

// sotwStream is a state-of-the-world stream's per-type state.
type sotwStream struct {
	s      *Server
	class  string
	node   *corev3.Node
	byType map[string]*sotwType
	// nackLog limits the stream's NACK log lines.
	nackLog *logLimiter
}

func (s *Server) serveSotw(st discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesServer, done <-chan struct{}) error {
	h := &sotwStream{s: s, byType: map[string]*sotwType{}, nackLog: newLogLimiter(1, nackLogEvery)}
	err := runStream(s, st.Context(), done, false, st.Recv, st.SendMsg, h)
	s.nackSummary(h.nackLog, h.class, h.node)
	return err
}

func (h *sotwStream) bind(class string, node *corev3.Node) { h.class, h.node = class, node }

func (h *sotwStream) request(req *discoveryv3.DiscoveryRequest, snap *classSnapshot) {
	t := h.byType[req.GetTypeUrl()]
	if t == nil {
		t = &sotwType{typeStream: typeStream{url: req.GetTypeUrl(), nackLog: h.nackLog}}
		h.byType[t.url] = t
	}
	h.s.sotwRequest(h.class, h.node, t, req, snap.set(t.url))
}

func (h *sotwStream) next(url string, snap *classSnapshot, nonce string) (*discoveryv3.DiscoveryResponse, []byte, func(*reservation)) {
	t := h.byType[url]
	if t == nil {
		return nil, nil, nil
	}
	cur := snap.set(url)
	anys, whole, due := t.resources(cur)
	if !due {
		return nil, nil, nil
	}
	var shared []byte
	if whole {
		shared = cur.wholeBody(false)
	}
	resp := &discoveryv3.DiscoveryResponse{VersionInfo: cur.version, Resources: anys, TypeUrl: url, Nonce: nonce}
	return resp, shared, func(budget *reservation) {
		prev := t.sent
		t.record(nonce, cur, budget)
		t.renamed, t.resend = false, nil
		if url == resource.ClusterType && prev != nil {
			if eds := h.byType[resource.EndpointType]; eds != nil {
				eds.resend = resendSet(eds.resend, cur.changedSince(prev))
			}
		}
	}
}

func (h *sotwStream) unanswered() *typeStream { return oldestUnanswered(h.byType) }

func (h *sotwStream) holds(url string) (*typeStream, *resourceSet) {
	if t := h.byType[url]; t != nil {
		return &t.typeStream, t.acked
	}
	return nil, nil
}

func (h *sotwStream) releaseAll() {
	for _, t := range h.byType {
		t.releaseBudget()
	}
}

// resendSet adds names to set (creating it): the changed clusters whose
// load assignments go out again.
func resendSet(set map[string]struct{}, names []string) map[string]struct{} {
	if len(names) == 0 {
		return set
	}
	if set == nil {
		set = make(map[string]struct{}, len(names))
	}
	for _, n := range names {
		set[n] = struct{}{}
	}
	return set
}
