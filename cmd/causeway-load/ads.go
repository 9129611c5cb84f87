package main

import (
	"context"
	"fmt"
	"hash/maphash"
	"net"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/causeway-dev/causeway/model"
)

// A fleet of ADS clients standing in for gateways: each subscribes to CDS
// (wildcard) and to EDS for every EDS cluster it was sent, and ACKs every
// response, as Envoy does. Half use state-of-the-world ADS, half delta.

// target is the change being measured: the EDS resource name whose
// endpoint address must disappear (turn not ready).
type target struct {
	gen     int64
	name    string
	address string
	start   time.Time
	// acked[i] is client i's time from start to its ACK, set once.
	acked []atomic.Int64
	left  atomic.Int64
	done  chan struct{}
}

type fleet struct {
	clients []*adsClient
	cur     atomic.Pointer[target]
	// synced counts clients that ACKed EDS for every EDS cluster they know.
	synced atomic.Int64
	errs   chan error
	// names and lists share EDS names between clients (see names.go).
	names nameTable
	lists edsLists
	// seed hashes load assignments for tracked clients (track.go).
	seed maphash.Seed
	// reconnects counts tracked clients' new streams after one ended,
	// firstReconnect says why the first ended.
	reconnects     atomic.Int64
	firstReconnect atomic.Pointer[string]
}

type adsClient struct {
	f      *fleet
	id     int
	delta  bool
	conn   *grpc.ClientConn
	node   *corev3.Node
	synced bool
	// known and have (delta) are the EDS names subscribed and received
	// (ids in f.names) and their counts; have is dropped once synced.
	known, have   bitset
	nKnown, nHave int
	// lastGen is the last target this client recorded.
	lastGen int64
	// in is what the client keeps of the last response, filled while
	// decoding it (decodeSotw, decodeDelta).
	in reply
	// view and ack, for a tracked client (the soak), are its load
	// assignments and what it last ACKed (track.go); view is nil otherwise.
	view *edsView
	ack  atomic.Pointer[ackState]
}

// reply is what a client keeps of a response once its bytes are released.
type reply struct {
	header
	resources int
	// eds is a CDS response's EDS clusters (state of the world) or those
	// not yet subscribed (delta), shared with other clients.
	eds *edsList
	// target and cla are the pending target and its ClusterLoadAssignment
	// (a copy), if the response carried it.
	target *target
	cla    []byte
	// updates and removed are a tracked client's assignments and removed
	// names of an EDS response (track.go).
	updates []edsUpdate
	removed []int32
}

// gatewayNode is every load client's node: one proxy class. The generated
// world has no Gateway (the clients measure EDS), so they serve every
// Gateway of their cluster ("*"), which gets them what a gateway proxy got
// before per-Gateway proxies, without a diagnostic per class.
func gatewayNode(id string) *corev3.Node {
	md, _ := structpb.NewStruct(map[string]any{
		model.NodeMetaRole: string(model.RoleGateway), model.NodeMetaCluster: benchClusters[0],
		model.NodeMetaBindAddress: "127.0.1.1", model.NodeMetaGateway: model.AllGateways,
	})
	return &corev3.Node{Id: id, Metadata: md, Locality: &corev3.Locality{Region: "r1", Zone: "z1"}}
}

// clientWindow is each client's HTTP/2 flow-control window.
const clientWindow = 1 << 20

// connect starts k clients against addr; half delta.
func connect(ctx context.Context, addr string, k int) (*fleet, error) {
	return connectFleet(ctx, addr, k, false)
}

// connectFleet is connect; with track, every client keeps what it ACKed
// and the first two (one per protocol) the assignments themselves
// (track.go).
func connectFleet(ctx context.Context, addr string, k int, track bool) (*fleet, error) {
	f := &fleet{errs: make(chan error, k), seed: maphash.MakeSeed()}
	for i := 0; i < k; i++ {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)),
			// A fixed window (no BDP growth to 16 MiB) bounds what each
			// connection buffers ahead of its client.
			grpc.WithInitialWindowSize(clientWindow), grpc.WithInitialConnWindowSize(clientWindow),
			grpc.WithSharedWriteBuffer(true),
			grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", a)
			}))
		if err != nil {
			f.close()
			return nil, err
		}
		c := &adsClient{f: f, id: i, delta: i%2 == 1, conn: conn, node: gatewayNode(fmt.Sprintf("load-%d", i))}
		if track {
			c.view = newEDSView(i < 2)
		}
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
				err = fmt.Errorf("client %d (delta=%v): %w", c.id, c.delta, err)
				if !track || attempt == maxReconnects {
					f.errs <- err
					return
				}
				// A tracked client reconnects, as Envoy does (after a
				// keepalive timeout or a maximum connection age).
				f.reconnected(err)
				c.resetStream()
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

func (f *fleet) close() {
	for _, c := range f.clients {
		c.conn.Close()
	}
}

// waitSynced waits until every client has ACKed its full EDS.
func (f *fleet) waitSynced(ctx context.Context, timeout time.Duration) error {
	return waitAllSynced(ctx, &f.synced, len(f.clients), f.errs, timeout, "clients")
}

// measure arms a target, runs apply (the change), and waits until every
// client ACKed EDS without the address; it returns the per-client times.
// apply calls mark just before the change takes effect (the write).
func (f *fleet) measure(ctx context.Context, gen int64, name, address string, timeout time.Duration, apply func(mark func()) error) ([]time.Duration, error) {
	t := &target{gen: gen, name: name, address: address, acked: make([]atomic.Int64, len(f.clients)), done: make(chan struct{})}
	t.left.Store(int64(len(f.clients)))
	if err := apply(func() { t.start = time.Now(); f.cur.Store(t) }); err != nil {
		return nil, err
	}
	return awaitAcks(ctx, t.done, f.errs, timeout, t.acked, &t.left, "did not converge")
}

// split divides per-client times into state-of-the-world and delta.
func (f *fleet) split(ds []time.Duration) (sotw, delta []time.Duration) {
	for i, d := range ds {
		if f.clients[i].delta {
			delta = append(delta, d)
		} else {
			sotw = append(sotw, d)
		}
	}
	return sotw, delta
}
