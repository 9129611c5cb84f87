package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
)

// RDS clients: each subscribes to the gateway listener's route
// configuration and ACKs every response, as Envoy does once its listener
// names the configuration; half state-of-the-world, half delta. A
// response is searched for the pending target's marker while gRPC holds
// its bytes; nothing of it is kept.

type rdsFleet struct {
	clients []*rdsClient
	cur     atomic.Pointer[routeTarget]
	synced  atomic.Int64
	size    atomic.Int64 // bytes of the last route configuration response seen
	errs    chan error
	// reconnects counts new streams after one ended, firstReconnect says
	// why the first ended.
	reconnects     atomic.Int64
	firstReconnect atomic.Pointer[string]
}

func ptrTo[T any](v T) *T { return &v }

type rdsClient struct {
	f      *rdsFleet
	id     int
	delta  bool
	conn   *grpc.ClientConn
	node   *corev3.Node
	synced bool
	// lastGen is the last target this client recorded; in what it keeps
	// of the response being handled.
	lastGen int64
	in      rdsReply
}

type rdsReply struct {
	header
	target *routeTarget // the pending target, if the response holds its marker
}

func connectRDS(ctx context.Context, addr string, k int) (*rdsFleet, error) {
	f := &rdsFleet{errs: make(chan error, k)}
	for i := range k {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)),
			grpc.WithInitialWindowSize(clientWindow), grpc.WithInitialConnWindowSize(clientWindow),
			grpc.WithSharedWriteBuffer(true),
			grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", a)
			}))
		if err != nil {
			f.close()
			return nil, err
		}
		c := &rdsClient{f: f, id: i, delta: i%2 == 1, conn: conn, node: gatewayNode(fmt.Sprintf("load-rds-%d", i))}
		f.clients = append(f.clients, c)
		go func() {
			for attempt := 0; ; attempt++ {
				var err error
				if c.delta {
					err = c.runDelta(ctx)
				} else {
					err = c.runSotw(ctx)
				}
				if err == nil || ctx.Err() != nil {
					return
				}
				err = fmt.Errorf("RDS client %d (delta=%v): %w", c.id, c.delta, err)
				if attempt == maxReconnects {
					f.errs <- err
					return
				}
				// Reconnect, as Envoy does; the new stream gets the whole
				// configuration again.
				f.reconnects.Add(1)
				f.firstReconnect.CompareAndSwap(nil, ptrTo(err.Error()))
				select {
				case <-ctx.Done():
					return
				case <-time.After(reconnectDelay(attempt)):
				}
			}
		}()
	}
	return f, nil
}

func (f *rdsFleet) close() {
	for _, c := range f.clients {
		c.conn.Close()
	}
}

// waitSynced waits until every client has ACKed a route configuration.
func (f *rdsFleet) waitSynced(ctx context.Context, timeout time.Duration) error {
	return waitAllSynced(ctx, &f.synced, len(f.clients), f.errs, timeout, "RDS clients")
}

// decode keeps a response's header and whether it holds the pending
// target's marker.
func (c *rdsClient) decode(b mem.BufferSlice) error {
	h, err := readHeader(b)
	if err != nil {
		return err
	}
	c.in = rdsReply{header: h}
	if h.typeURL != resourcev3.RouteType {
		return nil
	}
	c.f.size.Store(int64(b.Len()))
	if t := c.f.cur.Load(); t != nil && c.lastGen < t.gen && containsAcross(b, t.marker) {
		c.in.target = t
	}
	return nil
}

// containsAcross reports whether the bytes of b, across buffer
// boundaries, contain marker.
func containsAcross(b mem.BufferSlice, marker []byte) bool {
	var carry []byte
	for _, buf := range b {
		data := buf.ReadOnlyData()
		if len(carry) > 0 {
			joined := append(carry, data[:min(len(data), len(marker)-1)]...)
			if bytes.Contains(joined, marker) {
				return true
			}
		}
		if bytes.Contains(data, marker) {
			return true
		}
		carry = append([]byte(nil), data[max(0, len(data)-len(marker)+1):]...)
	}
	return false
}

// acked records, right after the ACK was sent, the client's first
// configuration and the target's arrival.
func (c *rdsClient) acked(now time.Time) {
	if c.in.typeURL != resourcev3.RouteType {
		return
	}
	if !c.synced {
		c.synced = true
		c.f.synced.Add(1)
	}
	t := c.in.target
	if t == nil || c.lastGen >= t.gen {
		return
	}
	c.lastGen = t.gen
	t.acked[c.id].Store(int64(now.Sub(t.start)))
	if t.left.Add(-1) == 0 {
		close(t.done)
	}
}

func (c *rdsClient) runSotw(ctx context.Context) error {
	stream, err := openStream(ctx, c.conn, sotwMethod)
	if err != nil {
		return err
	}
	names := []string{routeConfigName}
	if err := stream.SendMsg(&discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: resourcev3.RouteType, ResourceNames: names}); err != nil {
		return err
	}
	in := &sink{decode: c.decode}
	for {
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		r := &c.in
		req := &discoveryv3.DiscoveryRequest{TypeUrl: r.typeURL, VersionInfo: r.version, ResponseNonce: r.nonce}
		if r.typeURL == resourcev3.RouteType {
			req.ResourceNames = names
		}
		if err := stream.SendMsg(req); err != nil {
			return err
		}
		c.acked(time.Now())
	}
}

func (c *rdsClient) runDelta(ctx context.Context) error {
	stream, err := openStream(ctx, c.conn, deltaMethod)
	if err != nil {
		return err
	}
	if err := stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: resourcev3.RouteType,
		ResourceNamesSubscribe: []string{routeConfigName}}); err != nil {
		return err
	}
	in := &sink{decode: c.decode}
	for {
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		if err := stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: c.in.typeURL, ResponseNonce: c.in.nonce}); err != nil {
			return err
		}
		c.acked(time.Now())
	}
}
