package xds

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// adsServer serves the class feeds over ADS: state of the world and delta.
// Each stream runs one loop that reacts to its proxy's requests and to
// publications of its class, sending per type only what the proxy lacks,
// one response at a time (the next once the last is answered).
type adsServer struct {
	discoverygrpc.UnimplementedAggregatedDiscoveryServiceServer
	s    *Server
	done <-chan struct{} // Serve's context: streams end with it
}

func (a adsServer) StreamAggregatedResources(st discoverygrpc.AggregatedDiscoveryService_StreamAggregatedResourcesServer) error {
	return a.s.serveSotw(st, a.done)
}

func (a adsServer) DeltaAggregatedResources(st discoverygrpc.AggregatedDiscoveryService_DeltaAggregatedResourcesServer) error {
	return a.s.serveDelta(st, a.done)
}

// receive reads a stream's requests into a channel until the stream ends;
// the error channel gets why.
func receive[T any](ctx context.Context, recv func() (T, error)) (<-chan T, <-chan error) {
	reqs, errc := make(chan T), make(chan error, 1)
	go func() {
		for {
			r, err := recv()
			if err != nil {
				errc <- err
				return
			}
			select {
			case reqs <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	return reqs, errc
}

// streamEnd turns a receive error into the handler's result.
func streamEnd(err error) error {
	if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
		return nil
	}
	return err
}

// typeStream is what both ADS variants keep for one resource type of a
// stream: the subscription and the last response with its answer.
type typeStream struct {
	url      string
	wildcard bool
	// names are the subscribed names, unless they are exactly the
	// resources of covers (the usual case: a gateway wants every load
	// assignment), which then stands in for them.
	names   map[string]struct{}
	covers  *resourceSet
	nonce   string // of the last response
	waiting bool   // the last response is unanswered
	sent    *resourceSet
	nacked  string       // version the proxy rejected: not sent again
	budget  *reservation // the last response's send budget, until answered
	sentAt  time.Time    // of the last response
	nackLog *logLimiter  // the stream's, for NACK log lines (nil: unlimited)
	// report is what the proxy status shows of the type (proxystatus.go):
	// the last response sent, ACKed and NACKed.
	report typeReport
}

func (t *typeStream) subscribed(name string) bool {
	if t.wildcard {
		return true
	}
	if t.covers != nil {
		return t.covers.items[name] != nil
	}
	_, ok := t.names[name]
	return ok
}

// answered applies the proxy's answer to the last response and reports
// whether it accepted it; a rejected version is not sent again.
func (t *typeStream) answered(s *Server, class string, node *corev3.Node, nonce string, nack *statuspb.Status) bool {
	t.waiting = false
	t.releaseBudget()
	if nack != nil {
		t.nacked = t.sent.version
		t.report.nacked = Response{Version: t.sent.version, Nonce: nonce, At: time.Now()}
		t.report.nackMessage = clipNACK(nack.GetMessage())
		s.nack(t.nackLog, class, node, t.url, nonce, nack.GetMessage())
		return false
	}
	t.report.acked = Response{Version: t.sent.version, Nonce: nonce, At: time.Now()}
	s.acked(class, t.url, t.sent.version)
	return true
}

// record notes a response sent with its nonce and send budget.
func (t *typeStream) record(nonce string, cur *resourceSet, budget *reservation) {
	t.budget, t.nonce, t.waiting, t.sent = budget, nonce, true, cur
	t.sentAt = time.Now()
	t.report.sent = Response{Version: cur.version, Nonce: nonce, At: t.sentAt}
}

func (t *typeStream) base() *typeStream { return t }

// oldestUnanswered returns the type of a stream with the oldest
// unanswered response (nil: none).
func oldestUnanswered[T interface{ base() *typeStream }](byType map[string]T) (t *typeStream) {
	for _, ts := range byType {
		if b := ts.base(); b.waiting && (t == nil || b.sentAt.Before(t.sentAt)) {
			t = b
		}
	}
	return t
}

func (t *typeStream) releaseBudget() {
	t.budget.release()
	t.budget = nil
}

// adsRequest is a DiscoveryRequest or DeltaDiscoveryRequest.
type adsRequest interface {
	GetNode() *corev3.Node
	GetTypeUrl() string
}

// streamHandler is what differs between the two ADS variants.
type streamHandler[R adsRequest, P proto.Message] interface {
	// bind records the stream's class, on its first request.
	bind(class string, node *corev3.Node)
	// request applies a request.
	request(req R, snap *classSnapshot)
	// next returns the response due for a type (nil: none) with that
	// nonce, and what to record once it is sent with its send budget.
	// When the response carries a whole set, its resources are left out
	// of it and returned encoded, shared (see resourceSet.wholeBody).
	next(url string, snap *classSnapshot, nonce string) (P, []byte, func(*reservation))
	// releaseAll returns every send budget the stream holds.
	releaseAll()
	// unanswered returns the type with the oldest unanswered response
	// (nil: none).
	unanswered() *typeStream
	// holds returns a type's state (nil: never requested) and the set the
	// proxy is known to hold (nil: none), for the proxy status.
	holds(url string) (*typeStream, *resourceSet)
}

// runStream serves one ADS stream: it reacts to the proxy's requests and
// to publications of its class, and sends what is due per type, in type
// order, within the send budget. The stream is closed when the first
// request does not come within firstRequestTimeout, or a response stays
// unanswered for responseTimeout.
func runStream[R adsRequest, P proto.Message](s *Server, ctx context.Context, done <-chan struct{}, delta bool,
	recv func() (R, error), send func(any) error, h streamHandler[R, P]) error {
	sk, state := s.openStream(ctx, delta)
	defer s.unregister(sk)
	reqs, errc := receive(ctx, recv)
	out := startSender(send)
	defer out.stop()
	var (
		fd     *feed
		pub    *publication
		nonce  int64
		queued *reservation // waiting for send budget
		ready  <-chan struct{}
	)
	defer func() {
		queued.release()
		h.releaseAll()
	}()
	first := time.NewTimer(s.firstRequestTimeout)
	defer first.Stop()
	answer := time.NewTimer(s.responseTimeout)
	answer.Stop()
	defer answer.Stop()
	for {
		var next chan struct{}
		if pub != nil {
			next = pub.next
		}
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return streamEnd(err)
		case err := <-out.errc:
			return err
		case <-first.C:
			return s.closeStream(ctx, closedFirstRequest, codes.DeadlineExceeded,
				"no first request within %v of opening the stream (--xds-first-request-timeout)", s.firstRequestTimeout)
		case <-answer.C: // checked below
		case <-next:
			pub = fd.cur.Load()
		case <-ready:
		case req := <-reqs:
			if fd == nil {
				first.Stop()
				var class string
				class, fd = s.join(sk, req.GetNode())
				h.bind(class, req.GetNode())
				pub = fd.cur.Load()
			}
			if req.GetTypeUrl() == "" {
				return status.Error(codes.InvalidArgument, "type URL is required for ADS")
			}
			h.request(req, pub.snap)
		}
		if pub == nil {
			continue
		}
		ready = nil
		blocked := false
		for _, url := range snapshotTypes {
			resp, shared, sent := h.next(url, pub.snap, strconv.FormatInt(nonce+1, 10))
			if sent == nil {
				continue
			}
			nonce++
			// The budget counts what this stream encodes for itself (a
			// shared body is in memory once, however many streams send
			// it), and a small response does not wait behind the stream's
			// own queued large one.
			size := proto.Size(resp)
			var budget *reservation
			if size < budgetFree {
				budget = s.budget.reserve(size)
			} else {
				if queued == nil {
					queued = s.budget.reserve(size)
				}
				if !queued.isGranted() {
					ready, blocked = queued.ready, true // the next types wait too: their order matters
					break
				}
				budget, queued = queued, nil
			}
			var msg any = resp
			if shared != nil {
				msg = &sharedResponse{head: resp, body: shared}
			}
			if !out.queue(msg) {
				budget.release()
				return s.closeStream(ctx, closedOverrun, codes.ResourceExhausted,
					"more than %d responses waiting to be sent: the stream answers responses it has not received", cap(out.out))
			}
			sent(budget)
		}
		if queued != nil && !blocked {
			queued.release() // what it was for is no longer due
			queued = nil
		}
		state.report(h)
		t := h.unanswered()
		if t == nil && !blocked {
			state.settled.Store(pub.snap) // the handoff waits for this (handoff.go)
		}
		if t == nil {
			answer.Stop()
		} else if late := time.Since(t.sentAt); late < s.responseTimeout {
			answer.Reset(s.responseTimeout - late)
		} else {
			return s.closeStream(ctx, closedResponseTimeout, codes.DeadlineExceeded,
				"response %s of %s unanswered (no ACK or NACK) for %v (--xds-response-timeout); reconnect to resume",
				t.nonce, clip(t.url), late.Round(time.Second))
		}
	}
}

// sender sends a stream's responses in order on a goroutine of its own.
// A proxy that stops reading blocks gRPC's send (flow control) until the
// stream ends; the stream's loop goes on meanwhile, so the unanswered
// response times out and the stream is closed, which ends the send.
type sender struct {
	out  chan any
	errc chan error
	quit chan struct{}
}

func startSender(send func(any) error) *sender {
	// A stream has at most one unanswered response per type, and a proxy
	// cannot answer one before it was sent; twice that is room enough.
	sd := &sender{out: make(chan any, 2*len(snapshotTypes)), errc: make(chan error, 1), quit: make(chan struct{})}
	go func() {
		for {
			select {
			case <-sd.quit:
				return
			case m := <-sd.out:
				select {
				case <-sd.quit:
					return
				default:
				}
				if err := send(m); err != nil {
					sd.errc <- err
					return
				}
			}
		}
	}()
	return sd
}

// queue hands m to the sender; false when its queue is full.
func (sd *sender) queue(m any) bool {
	select {
	case sd.out <- m:
		return true
	default:
		return false
	}
}

func (sd *sender) stop() { close(sd.quit) }

// Reasons of causeway_xds_streams_closed_total.
const (
	closedResponseTimeout = "response_timeout"
	closedFirstRequest    = "first_request_timeout"
	closedOverrun         = "overrun"
)

// closeStream counts and logs (rate-limited) a stream the server closes,
// and returns the status it ends with.
func (s *Server) closeStream(ctx context.Context, reason string, code codes.Code, format string, args ...any) error {
	s.metrics.streamsClosed.WithLabelValues(reason).Inc()
	st := status.Newf(code, format, args...)
	limited(s.logs.closed, s.log.Warn, "xDS stream closed", "peer", peerOf(ctx), "reason", reason, "message", st.Message())
	return st.Err()
}

// openStream registers a new stream (not yet bound to a class).
func (s *Server) openStream(ctx context.Context, delta bool) (streamKey, *streamState) {
	sk := streamKey{delta: delta, id: s.streamIDs.Add(1)}
	st := &streamState{peer: peerOf(ctx), opened: time.Now()}
	s.smu.Lock()
	s.streams[sk] = st
	s.smu.Unlock()
	return sk, st
}

// join binds a stream to its node's class (building the class if new) and
// returns the class key and feed.
func (s *Server) join(sk streamKey, node *corev3.Node) (string, *feed) {
	if node == nil {
		node = &corev3.Node{}
	}
	key := s.register(sk, node)
	return key, s.cache.get(key)
}

// nack counts a proxy's rejection of a response and logs it: a stream's
// first NACK, then at most one per nackLogEvery, with what it left out.
func (s *Server) nack(l *logLimiter, class string, node *corev3.Node, typeURL, nonce, message string) {
	s.metrics.nacks.WithLabelValues(typeURL).Inc()
	args := []any{"class", clip(class), "node", clip(node.GetId()), "type_url", typeURL, "nonce", clip(nonce), "message", clip(message)}
	if l == nil {
		s.log.Warn("proxy rejected configuration (NACK)", args...)
		return
	}
	limited(l, s.log.Warn, "proxy rejected configuration (NACK)", args...)
}

// nackSummary logs the NACK lines a closing stream left out, if any.
func (s *Server) nackSummary(l *logLimiter, class string, node *corev3.Node) {
	if n := l.pending(); n > 0 {
		s.log.Warn("proxy rejected configuration (NACK): more NACKs than logged on a closed stream",
			"class", clip(class), "node", clip(node.GetId()), "suppressed", n)
	}
}

// peerOf is the stream's remote address, for logs.
func peerOf(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

// wildcardByDefault: types whose empty first request means "everything".
func wildcardByDefault(typeURL string) bool {
	return typeURL == resource.ClusterType || typeURL == resource.ListenerType
}
