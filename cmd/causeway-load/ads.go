package main

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
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
}

type adsClient struct {
	f      *fleet
	id     int
	delta  bool
	conn   *grpc.ClientConn
	node   *corev3.Node
	synced bool
	// lastGen is the last target this client recorded.
	lastGen int64
}

func gatewayNode(id string) *corev3.Node {
	md, _ := structpb.NewStruct(map[string]any{
		model.NodeMetaRole: string(model.RoleGateway), model.NodeMetaCluster: benchClusters[0],
		model.NodeMetaBindAddress: "127.0.1.1",
	})
	return &corev3.Node{Id: id, Metadata: md, Locality: &corev3.Locality{Region: "r1", Zone: "z1"}}
}

// connect starts k clients against addr; half delta.
func connect(ctx context.Context, addr string, k int) (*fleet, error) {
	f := &fleet{errs: make(chan error, k)}
	for i := 0; i < k; i++ {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)),
			grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", a)
			}))
		if err != nil {
			f.close()
			return nil, err
		}
		c := &adsClient{f: f, id: i, delta: i%2 == 1, conn: conn, node: gatewayNode(fmt.Sprintf("load-%d", i))}
		f.clients = append(f.clients, c)
		go func() {
			var err error
			if c.delta {
				err = c.runDelta(ctx)
			} else {
				err = c.runSotw(ctx)
			}
			if err != nil && ctx.Err() == nil {
				f.errs <- fmt.Errorf("client %d (delta=%v): %w", c.id, c.delta, err)
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
	deadline := time.Now().Add(timeout)
	for int(f.synced.Load()) < len(f.clients) {
		select {
		case err := <-f.errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d clients synced within %v", f.synced.Load(), len(f.clients), timeout)
		}
	}
	return nil
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
	select {
	case <-t.done:
	case err := <-f.errs:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(timeout):
		return nil, fmt.Errorf("%d of %d clients did not converge within %v", t.left.Load(), len(f.clients), timeout)
	}
	out := make([]time.Duration, len(t.acked))
	for i := range t.acked {
		out[i] = time.Duration(t.acked[i].Load())
	}
	return out, nil
}

// acked records that client c ACKed a response; cla is the target's CLA
// if the response carried it.
func (c *adsClient) check(cla []byte, ackedAt time.Time) {
	t := c.f.cur.Load()
	if t == nil || c.lastGen >= t.gen || cla == nil {
		return
	}
	var m endpointv3.ClusterLoadAssignment
	if proto.Unmarshal(cla, &m) != nil || hasHealthyAddress(&m, t.address) {
		return
	}
	c.lastGen = t.gen
	t.acked[c.id].Store(int64(ackedAt.Sub(t.start)))
	if t.left.Add(-1) == 0 {
		close(t.done)
	}
}

func hasHealthyAddress(m *endpointv3.ClusterLoadAssignment, addr string) bool {
	for _, l := range m.GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			if e.GetEndpoint().GetAddress().GetSocketAddress().GetAddress() == addr {
				switch e.GetHealthStatus() {
				case corev3.HealthStatus_UNKNOWN, corev3.HealthStatus_HEALTHY:
					return true
				}
			}
		}
	}
	return false
}

// edsClusterName returns a Cluster's name if its discovery type is EDS,
// reading only the wire fields (name 1, type 2) instead of unmarshalling.
func edsClusterName(b []byte) (string, bool) {
	var name string
	eds := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return "", false
			}
			name, b = string(v), b[m:]
			continue
		case num == 2 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return "", false
			}
			eds, b = v == 3, b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return "", false
		}
		b = b[m:]
	}
	return name, eds
}

// claName reads ClusterLoadAssignment.cluster_name (field 1).
func claName(b []byte) string {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			return string(v)
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return ""
		}
		b = b[m:]
	}
	return ""
}

func (c *adsClient) markSynced() {
	if !c.synced {
		c.synced = true
		c.f.synced.Add(1)
	}
}

func (c *adsClient) runSotw(ctx context.Context) error {
	stream, err := openStream(ctx, c.conn, sotwMethod)
	if err != nil {
		return err
	}
	if err := stream.SendMsg(&discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: resourcev3.ClusterType}); err != nil {
		return err
	}
	var eds []string
	edsVersion, edsNonce := "", ""
	var raw rawMsg
	for {
		if err := stream.RecvMsg(&raw); err != nil {
			return err
		}
		r, err := parseResponse(raw.b, false)
		if err != nil {
			return err
		}
		switch r.typeURL {
		case resourcev3.ClusterType:
			var names []string
			for _, b := range r.resources {
				if n, ok := edsClusterName(b); ok {
					names = append(names, n)
				}
			}
			err = stream.SendMsg(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.ClusterType, VersionInfo: r.version, ResponseNonce: r.nonce})
			if err == nil && !equalStrings(names, eds) {
				eds = names
				err = stream.SendMsg(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, VersionInfo: edsVersion, ResponseNonce: edsNonce, ResourceNames: eds})
			}
		case resourcev3.EndpointType:
			edsVersion, edsNonce = r.version, r.nonce
			err = stream.SendMsg(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, VersionInfo: edsVersion, ResponseNonce: edsNonce, ResourceNames: eds})
			now := time.Now()
			if len(r.resources) >= len(eds) && len(eds) > 0 {
				c.markSynced()
			}
			if t := c.f.cur.Load(); t != nil && c.lastGen < t.gen {
				for _, b := range r.resources {
					if claName(b) == t.name {
						c.check(b, now)
						break
					}
				}
			}
		default:
			err = stream.SendMsg(&discoveryv3.DiscoveryRequest{TypeUrl: r.typeURL, VersionInfo: r.version, ResponseNonce: r.nonce})
		}
		if err != nil {
			return err
		}
	}
}

func (c *adsClient) runDelta(ctx context.Context) error {
	stream, err := openStream(ctx, c.conn, deltaMethod)
	if err != nil {
		return err
	}
	if err := stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: resourcev3.ClusterType}); err != nil {
		return err
	}
	known := map[string]bool{} // EDS clusters subscribed
	have := map[string]bool{}  // EDS resources received
	var raw rawMsg
	for {
		if err := stream.RecvMsg(&raw); err != nil {
			return err
		}
		r, err := parseResponse(raw.b, true)
		if err != nil {
			return err
		}
		switch r.typeURL {
		case resourcev3.ClusterType:
			var add []string
			for _, b := range r.resources {
				if n, ok := edsClusterName(b); ok && !known[n] {
					known[n] = true
					add = append(add, n)
				}
			}
			err = stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType, ResponseNonce: r.nonce})
			if err == nil && len(add) > 0 {
				err = stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNamesSubscribe: add})
			}
		case resourcev3.EndpointType:
			err = stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResponseNonce: r.nonce})
			now := time.Now()
			t := c.f.cur.Load()
			for k, name := range r.names {
				if !c.synced {
					have[string(name)] = true
				}
				if t != nil && c.lastGen < t.gen && string(name) == t.name {
					c.check(r.resources[k], now)
				}
			}
			if !c.synced && len(known) > 0 && len(have) >= len(known) {
				c.markSynced()
				have = nil
			}
		default:
			err = stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.typeURL, ResponseNonce: r.nonce})
		}
		if err != nil {
			return err
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
