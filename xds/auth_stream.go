package xds

import (
	"errors"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// ADS methods; only these are served.
const (
	methodSotw  = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
	methodDelta = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
)

// noder is a DiscoveryRequest or DeltaDiscoveryRequest.
type noder interface {
	proto.Message
	GetNode() *corev3.Node
}

// authenticate is the stream interceptor of a TLS server. Before
// go-control-plane sees a stream, it checks the credential, reads the first
// request and binds its node to the credential's identity, and counts the
// stream against the identity's limit; later requests must repeat the same
// node or none. Refusals end the stream with a gRPC status saying why
// (go-control-plane swallows receive errors, so a refusal on a later
// request is returned here once the handler ends).
func (s *Server) authenticate(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	var first noder
	switch info.FullMethod {
	case methodSotw:
		first = &discoveryv3.DiscoveryRequest{}
	case methodDelta:
		first = &discoveryv3.DeltaDiscoveryRequest{}
	default:
		return s.refused(ss, refuse(reasonBadCredential, codes.PermissionDenied, "method %s is not served", info.FullMethod))
	}
	ctx := ss.Context()
	cred, aerr := s.credentialOf(ctx)
	if aerr != nil {
		return s.refused(ss, aerr)
	}
	var release func()
	if cred.token == "" {
		// A certificate's identity is known now: count the stream before
		// it may sit waiting for its first request.
		if release, aerr = s.acquire(cred.spiffeID); aerr != nil {
			return s.refused(ss, aerr)
		}
		defer release()
	}
	if err := s.recvFirst(ss, first); err != nil {
		return err // the client went away, or sent nothing in time
	}
	id, aerr := s.authorize(ctx, cred, first.GetNode())
	if aerr != nil {
		return s.refused(ss, aerr)
	}
	if release == nil {
		if release, aerr = s.acquire(id.key); aerr != nil {
			return s.refused(ss, aerr)
		}
		defer release()
	}
	bs := &boundStream{ServerStream: ss, first: first, node: first.GetNode(), s: s}
	err := handler(srv, bs)
	if v := bs.refusal(); v != nil {
		return v
	}
	return err
}

// recvFirst reads a stream's first request into first, waiting at most
// firstRequestTimeout. The read runs on a goroutine of its own that owns
// the message it reads into until it returns (when the stream ends, if
// the wait timed out).
func (s *Server) recvFirst(ss grpc.ServerStream, first noder) error {
	m := proto.Clone(first)
	got := make(chan error, 1)
	go func() { got <- ss.RecvMsg(m) }()
	t := time.NewTimer(s.firstRequestTimeout)
	defer t.Stop()
	select {
	case err := <-got:
		if err == nil {
			proto.Merge(first, m)
		}
		return err
	case <-t.C:
		return s.closeStream(ss.Context(), closedFirstRequest, codes.DeadlineExceeded,
			"no first request within %v of opening the stream (--xds-first-request-timeout)", s.firstRequestTimeout)
	}
}

// refused counts and logs (rate-limited) a refusal and returns its status
// error.
func (s *Server) refused(ss grpc.ServerStream, e *authError) error {
	s.metrics.authFailures.WithLabelValues(e.reason).Inc()
	limited(s.logs.refused, s.log.Warn, "xDS stream refused", "peer", peerOf(ss.Context()), "reason", e.reason,
		"code", e.st.Code().String(), "message", clip(e.st.Message()))
	return e
}

// boundStream hands the already-read first request to go-control-plane and
// refuses later requests that carry another node.
type boundStream struct {
	grpc.ServerStream
	s     *Server
	first noder // nil once handed over
	node  *corev3.Node

	mu         sync.Mutex
	refusedErr error
}

func (b *boundStream) RecvMsg(m any) error {
	if b.first != nil {
		msg, ok := m.(proto.Message)
		if !ok {
			return errors.New("xds: unexpected message type")
		}
		proto.Reset(msg)
		proto.Merge(msg, b.first)
		b.first = nil
		return nil
	}
	if err := b.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	n, ok := m.(noder)
	if !ok || n.GetNode() == nil || proto.Equal(n.GetNode(), b.node) {
		return nil
	}
	e := refuse(reasonNodeChanged, codes.PermissionDenied,
		"a stream serves one node: it started as %s and now claims %s; open a new stream for another node",
		describeNode(b.node), describeNode(n.GetNode()))
	err := b.s.refused(b.ServerStream, e)
	b.mu.Lock()
	b.refusedErr = err
	b.mu.Unlock()
	return err
}

func (b *boundStream) refusal() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refusedErr
}
