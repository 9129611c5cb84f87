package xds

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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

// openStream registers a new stream (not yet bound to a class).
func (s *Server) openStream(delta bool) streamKey {
	sk := streamKey{delta: delta, id: s.streamIDs.Add(1)}
	s.smu.Lock()
	s.streams[sk] = &streamState{}
	s.smu.Unlock()
	return sk
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

// nack logs and counts a proxy's rejection of a response.
func (s *Server) nack(class string, node *corev3.Node, typeURL, nonce, message string) {
	s.metrics.nacks.WithLabelValues(typeURL).Inc()
	s.log.Warn("proxy rejected configuration (NACK)",
		"class", class, "node", node.GetId(), "type_url", typeURL, "nonce", nonce, "message", message)
}

// wildcardByDefault: types whose empty first request means "everything".
func wildcardByDefault(typeURL string) bool {
	return typeURL == resource.ClusterType || typeURL == resource.ListenerType
}

// sendBudget bounds the bytes of large responses in flight across all
// streams: from the send until the proxy answers (gRPC queues an encoded
// response until the proxy reads it). A burst of initial syncs of a big
// snapshot to many proxies would otherwise hold one encoded copy per
// stream. A stream whose response does not fit waits for the budget in its
// loop, still reading its proxy's answers, which return budget.
type sendBudget struct {
	mu    sync.Mutex
	free  int
	total int
	freed chan struct{} // closed (and replaced) when budget is returned
}

// budgetFree is the response size below which the budget is not used:
// the routine small updates never wait.
const budgetFree = 64 << 10

// budgetHold bounds how long a response holds budget without an answer,
// so a proxy that never answers cannot starve the others.
const budgetHold = 30 * time.Second

func newSendBudget(bytes int) *sendBudget {
	return &sendBudget{free: bytes, total: bytes, freed: make(chan struct{})}
}

// take reserves size bytes (all of the budget for a response larger than
// it). It returns the release function, or, when the budget is short, a
// channel closed once some is returned.
func (b *sendBudget) take(size int) (release func(), wait <-chan struct{}) {
	if size < budgetFree {
		return func() {}, nil
	}
	size = min(size, b.total)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.free < size {
		return nil, b.freed
	}
	b.free -= size
	var once sync.Once
	timer := time.AfterFunc(budgetHold, func() { once.Do(func() { b.put(size) }) })
	return func() {
		timer.Stop()
		once.Do(func() { b.put(size) })
	}, nil
}

func (b *sendBudget) put(size int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.free += size
	close(b.freed)
	b.freed = make(chan struct{})
}
