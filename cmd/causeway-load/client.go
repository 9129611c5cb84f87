package main

import (
	"context"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// One client's protocol: each response is decoded while gRPC holds its
// bytes (decodeSotw, decodeDelta keep only c.in), then ACKed at once, then
// the client's sync state and the target are updated, as before: a
// client's convergence time is taken right after its ACK is sent.

// pending is the armed target this client has not recorded yet.
func (c *adsClient) pending() *target {
	t := c.f.cur.Load()
	if t == nil || c.lastGen >= t.gen {
		return nil
	}
	return t
}

// keepTarget copies body if it is the pending target's CLA.
func (c *adsClient) keepTarget(t *target, body []byte) {
	if t != nil && c.in.target == nil && string(claName(body)) == t.name {
		c.in.target, c.in.cla = t, append(c.in.cla[:0], body...)
	}
}

// check records that client c ACKed, at ackedAt, a response that carried
// the target's CLA (c.in), if the address is no longer healthy in it.
func (c *adsClient) check(ackedAt time.Time) {
	t := c.in.target
	if t == nil || c.lastGen >= t.gen {
		return
	}
	var m endpointv3.ClusterLoadAssignment
	if proto.Unmarshal(c.in.cla, &m) != nil || hasHealthyAddress(&m, t.address) {
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
// reading only the wire fields (name 1, type 2) instead of unmarshalling;
// the name aliases b.
func edsClusterName(b []byte) ([]byte, bool) {
	var name []byte
	eds := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, false
			}
			name, b = v, b[m:]
			continue
		case num == 2 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return nil, false
			}
			eds, b = v == 3, b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return nil, false
		}
		b = b[m:]
	}
	return name, eds
}

// claName reads ClusterLoadAssignment.cluster_name (field 1); it aliases b.
func claName(b []byte) []byte {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			return v
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return nil
		}
		b = b[m:]
	}
	return nil
}

func (c *adsClient) markSynced() {
	if !c.synced {
		c.synced = true
		c.f.synced.Add(1)
	}
}

// decodeSotw keeps of a DiscoveryResponse its header, the EDS clusters of
// a CDS response (shared with other clients) or the number of CLAs and the
// pending target's CLA of an EDS response.
func (c *adsClient) decodeSotw(b mem.BufferSlice) error {
	h, err := readHeader(b)
	if err != nil {
		return err
	}
	c.in = reply{header: h, cla: c.in.cla, updates: c.in.updates[:0], removed: c.in.removed[:0]}
	switch h.typeURL {
	case resourcev3.ClusterType:
		var names [][]byte
		err = eachResource(b, false, func(_, body []byte) {
			if n, ok := edsClusterName(body); ok {
				names = append(names, n)
			}
		})
		if len(names) > 0 {
			c.in.eds = c.f.lists.share(names)
		}
	case resourcev3.EndpointType:
		t := c.pending()
		err = eachResource(b, false, func(_, body []byte) {
			c.in.resources++
			c.keepTarget(t, body)
			if c.view != nil {
				c.trackEDS(body)
			}
		})
	}
	return err
}

// edsRequest is a state-of-the-world EDS request for eds: a small
// encoding of its header followed by the shared encoding of the names.
func edsRequest(version, nonce string, eds *edsList) (encoded, error) {
	head, err := proto.Marshal(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, VersionInfo: version, ResponseNonce: nonce})
	if eds.len() == 0 {
		return encoded{head}, err
	}
	return encoded{head, eds.wire}, err
}

// subscribeRequest is a delta request subscribing to eds: its
// resource_names_subscribe is field 3, as DiscoveryRequest.resource_names,
// so the shared encoding serves both.
func subscribeRequest(eds *edsList) (encoded, error) {
	head, err := proto.Marshal(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType})
	return encoded{head, eds.wire}, err
}

func (c *adsClient) runSotw(ctx context.Context) error {
	stream, err := openStream(ctx, c.conn, sotwMethod)
	if err != nil {
		return err
	}
	if err := stream.SendMsg(&discoveryv3.DiscoveryRequest{Node: c.node, TypeUrl: resourcev3.ClusterType}); err != nil {
		return err
	}
	var eds *edsList
	edsVersion, edsNonce := "", ""
	in := &sink{decode: c.decodeSotw}
	for {
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		r := &c.in
		switch r.typeURL {
		case resourcev3.ClusterType:
			err = stream.SendMsg(&discoveryv3.DiscoveryRequest{TypeUrl: resourcev3.ClusterType, VersionInfo: r.version, ResponseNonce: r.nonce})
			if err == nil && !r.eds.same(eds) {
				eds = r.eds
				var req encoded
				if req, err = edsRequest(edsVersion, edsNonce, eds); err == nil {
					err = stream.SendMsg(req)
				}
			}
		case resourcev3.EndpointType:
			edsVersion, edsNonce = r.version, r.nonce
			var req encoded
			if req, err = edsRequest(edsVersion, edsNonce, eds); err == nil {
				err = stream.SendMsg(req)
			}
			now := time.Now()
			if r.resources >= eds.len() && eds.len() > 0 {
				c.markSynced()
			}
			c.check(now)
		default:
			err = stream.SendMsg(&discoveryv3.DiscoveryRequest{TypeUrl: r.typeURL, VersionInfo: r.version, ResponseNonce: r.nonce})
		}
		if err != nil {
			return err
		}
		if c.view != nil {
			c.acked()
		}
	}
}

// decodeDelta keeps of a DeltaDiscoveryResponse its header, the EDS
// clusters of a CDS response not yet subscribed (marking them known), or
// for an EDS response the pending target's CLA, counting the names
// received until synced.
func (c *adsClient) decodeDelta(b mem.BufferSlice) error {
	h, err := readHeader(b)
	if err != nil {
		return err
	}
	c.in = reply{header: h, cla: c.in.cla, updates: c.in.updates[:0], removed: c.in.removed[:0]}
	switch h.typeURL {
	case resourcev3.ClusterType:
		var add [][]byte
		err = eachResource(b, true, func(_, body []byte) {
			if n, ok := edsClusterName(body); ok {
				if id := c.f.names.id(n); c.known.add(id) {
					c.nKnown++
					add = append(add, n)
				}
			}
		})
		if len(add) > 0 {
			c.in.eds = c.f.lists.share(add)
		}
	case resourcev3.EndpointType:
		t := c.pending()
		err = eachResource(b, true, func(name, body []byte) {
			if !c.synced {
				if c.have.add(c.f.names.id(name)) {
					c.nHave++
				}
			}
			c.keepTarget(t, body)
			if c.view != nil {
				c.trackEDS(body)
			}
		})
		if err == nil && c.view != nil {
			err = c.trackRemoved(b)
		}
	}
	return err
}

func (c *adsClient) runDelta(ctx context.Context) error {
	stream, err := openStream(ctx, c.conn, deltaMethod)
	if err != nil {
		return err
	}
	if err := stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{Node: c.node, TypeUrl: resourcev3.ClusterType}); err != nil {
		return err
	}
	in := &sink{decode: c.decodeDelta}
	for {
		if err := stream.RecvMsg(in); err != nil {
			return err
		}
		r := &c.in
		switch r.typeURL {
		case resourcev3.ClusterType:
			err = stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType, ResponseNonce: r.nonce})
			if err == nil && r.eds.len() > 0 {
				var req encoded
				if req, err = subscribeRequest(r.eds); err == nil {
					err = stream.SendMsg(req)
				}
			}
		case resourcev3.EndpointType:
			err = stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResponseNonce: r.nonce})
			now := time.Now()
			if !c.synced && c.nKnown > 0 && c.nHave >= c.nKnown {
				c.markSynced()
				c.have = nil
			}
			c.check(now)
		default:
			err = stream.SendMsg(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.typeURL, ResponseNonce: r.nonce})
		}
		if err != nil {
			return err
		}
		if c.view != nil {
			c.acked()
		}
	}
}
