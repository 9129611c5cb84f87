package xds

import (
	"context"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
)

// callbacks connects go-control-plane's stream events to the class
// registry. go-control-plane calls them synchronously on each stream's
// goroutine, before it opens the request's watch.
type callbacks struct{ s *Server }

func (cb callbacks) open(sk streamKey) {
	cb.s.smu.Lock()
	cb.s.streams[sk] = &streamState{sent: map[string]sentResponse{}, deltaSent: map[string]string{}, acked: map[string]string{}}
	cb.s.smu.Unlock()
}

func (cb callbacks) stream(sk streamKey) *streamState {
	cb.s.smu.Lock()
	defer cb.s.smu.Unlock()
	return cb.s.streams[sk]
}

// request registers the stream's class on its first request and reports a
// NACK. It returns the stream's state (nil if unknown).
func (cb callbacks) request(sk streamKey, node *corev3.Node, typeURL, nonce string, nack *statuspb.Status) *streamState {
	st := cb.stream(sk)
	if st == nil {
		return nil
	}
	if st.class == "" {
		if node == nil {
			node = &corev3.Node{}
		}
		cb.s.register(sk, node)
	}
	if nack != nil {
		cb.s.metrics.nacks.WithLabelValues(typeURL).Inc()
		cb.s.log.Warn("proxy rejected configuration (NACK)",
			"class", st.class, "node", st.node.GetId(), "type_url", typeURL, "nonce", nonce, "message", nack.GetMessage())
	}
	return st
}

func (cb callbacks) OnStreamOpen(_ context.Context, id int64, _ string) error {
	cb.open(streamKey{id: id})
	return nil
}

func (cb callbacks) OnStreamClosed(id int64, _ *corev3.Node) { cb.s.unregister(streamKey{id: id}) }

func (cb callbacks) OnStreamRequest(id int64, req *discoveryv3.DiscoveryRequest) error {
	st := cb.request(streamKey{id: id}, req.GetNode(), req.GetTypeUrl(), req.GetResponseNonce(), req.GetErrorDetail())
	if st != nil && req.GetErrorDetail() != nil {
		// A NACK carries the last version the proxy accepted, so the cache
		// would answer it at once with the version just rejected, and again
		// after every NACK. Claim the rejected version instead: the cache
		// then holds the watch until a new version is published.
		if sent, ok := st.sent[req.GetTypeUrl()]; ok && sent.nonce == req.GetResponseNonce() {
			req.VersionInfo = sent.version
		}
	}
	if st != nil && req.GetErrorDetail() == nil && req.GetResponseNonce() != "" {
		if sent, ok := st.sent[req.GetTypeUrl()]; ok && sent.nonce == req.GetResponseNonce() && sent.version == req.GetVersionInfo() {
			cb.s.acked(st, req.GetTypeUrl(), sent.version)
		}
	}
	return nil
}

func (cb callbacks) OnStreamResponse(_ context.Context, id int64, _ *discoveryv3.DiscoveryRequest, resp *discoveryv3.DiscoveryResponse) {
	if st := cb.stream(streamKey{id: id}); st != nil {
		st.sent[resp.GetTypeUrl()] = sentResponse{nonce: resp.GetNonce(), version: resp.GetVersionInfo()}
	}
}

func (cb callbacks) OnDeltaStreamOpen(_ context.Context, id int64, _ string) error {
	cb.open(streamKey{delta: true, id: id})
	return nil
}

func (cb callbacks) OnDeltaStreamClosed(id int64, _ *corev3.Node) {
	cb.s.unregister(streamKey{delta: true, id: id})
}

// OnStreamDeltaRequest runs before go-control-plane fills in the node of
// requests that omit it, hence the stream's saved node. Delta NACKs need no
// version trick: the delta cache tracks what it sent per resource and only
// sends resources whose content changed.
func (cb callbacks) OnStreamDeltaRequest(id int64, req *discoveryv3.DeltaDiscoveryRequest) error {
	sk := streamKey{delta: true, id: id}
	node := req.GetNode()
	if node == nil {
		if st := cb.stream(sk); st != nil {
			node = st.node
		}
	}
	st := cb.request(sk, node, req.GetTypeUrl(), req.GetResponseNonce(), req.GetErrorDetail())
	if st != nil && req.GetResponseNonce() != "" {
		if version, ok := st.deltaSent[req.GetResponseNonce()]; ok {
			delete(st.deltaSent, req.GetResponseNonce())
			if req.GetErrorDetail() == nil {
				cb.s.acked(st, req.GetTypeUrl(), version)
			}
		}
	}
	return nil
}

// OnStreamDeltaResponse remembers the type version of each response by
// nonce, so its ACK can be timed. Unanswered nonces are few: a proxy
// answers every response.
func (cb callbacks) OnStreamDeltaResponse(id int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
	if st := cb.stream(streamKey{delta: true, id: id}); st != nil {
		if len(st.deltaSent) > 64 { // a proxy that never answers
			clear(st.deltaSent)
		}
		st.deltaSent[resp.GetNonce()] = resp.GetSystemVersionInfo()
	}
}

func (callbacks) OnFetchRequest(context.Context, *discoveryv3.DiscoveryRequest) error { return nil }

func (callbacks) OnFetchResponse(*discoveryv3.DiscoveryRequest, *discoveryv3.DiscoveryResponse) {}
