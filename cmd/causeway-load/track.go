package main

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// For the soak, each client keeps what it has ACKed, so that at the end
// every client can be compared with the final world: the CDS and EDS
// versions of its last ACKs, and a digest of every load assignment it
// holds (merged as Envoy merges them), summed over names. The soak checks
// two reference clients (one per protocol), which also keep the
// assignments themselves, against the final world's endpoints, and every
// client against the first reference (waitFinal).

// edsView is a tracked client's load assignments: a digest per name (by
// id in the fleet's name table; 0 when absent) and their XOR.
type edsView struct {
	mu     sync.Mutex
	digest []uint64
	n      int
	sum    uint64
	// bodies are the assignments themselves (reference clients only).
	bodies map[int32][]byte
}

// ackState is what a tracked client last ACKed.
type ackState struct {
	cds, eds string
	// sum and n are its view's digest sum and number of assignments.
	sum uint64
	n   int
}

// edsUpdate is one assignment of a response, applied once it is ACKed.
type edsUpdate struct {
	id     int32
	digest uint64
	body   []byte // reference clients only
}

func newEDSView(reference bool) *edsView {
	v := &edsView{}
	if reference {
		v.bodies = map[int32][]byte{}
	}
	return v
}

// trackEDS notes a load assignment of the response being decoded; body is
// valid only during decoding.
func (c *adsClient) trackEDS(body []byte) {
	u := edsUpdate{id: c.f.names.id(claName(body)), digest: maphash.Bytes(c.f.seed, body) | 1}
	if c.view.bodies != nil {
		u.body = append([]byte(nil), body...)
	}
	c.in.updates = append(c.in.updates, u)
}

// trackRemoved notes a delta response's removed_resources (field 6).
func (c *adsClient) trackRemoved(b mem.BufferSlice) error {
	return topFields(b, func(num protowire.Number) bool { return num == 6 }, func(_ protowire.Number, name []byte) {
		c.in.removed = append(c.in.removed, c.f.names.id(name))
	})
}

// acked records the response in c.in as ACKed: called right after the ACK
// was sent.
func (c *adsClient) acked() {
	v := c.view
	prev := c.ack.Load()
	next := &ackState{}
	if prev != nil {
		*next = *prev
	}
	switch c.in.typeURL {
	case resourcev3.ClusterType:
		next.cds = c.in.version
	case resourcev3.EndpointType:
		next.eds = c.in.version
		v.mu.Lock()
		for _, id := range c.in.removed {
			v.set(id, 0, nil)
		}
		for _, u := range c.in.updates {
			v.set(u.id, u.digest, u.body)
		}
		next.sum, next.n = v.sum, v.n
		v.mu.Unlock()
	default:
		return
	}
	c.ack.Store(next)
}

// set replaces name id's digest (0: removes it); v.mu is held.
func (v *edsView) set(id int32, digest uint64, body []byte) {
	for len(v.digest) <= int(id) {
		v.digest = append(v.digest, 0)
	}
	old := v.digest[id]
	switch {
	case old == 0 && digest != 0:
		v.n++
	case old != 0 && digest == 0:
		v.n--
	}
	v.sum ^= old ^ digest
	v.digest[id] = digest
	if v.bodies != nil {
		if digest == 0 {
			delete(v.bodies, id)
		} else {
			v.bodies[id] = body
		}
	}
}

// waitFinal waits, up to timeout, until every client has ACKed the final
// world of spec, and returns how many have and the reference versions.
// Each protocol's reference client (the first of each, which keeps its
// load assignments) must hold exactly the final endpoints' readiness in
// the first cluster for every VirtualDestination; every client, of either
// protocol, must have ACKed the same CDS and EDS versions and hold the
// same assignments (digest) as the first reference: serve encodes each
// resource once for all streams, and versions are digests of content.
func (f *fleet) waitFinal(ctx context.Context, spec worldSpec, timeout time.Duration) (n int, cds, eds string) {
	deadline := time.Now().Add(timeout)
	refs := f.clients[:min(2, len(f.clients))]
	checked := make([]uint64, len(refs)) // the sum last checked per reference
	final := make([]bool, len(refs))
	for {
		n, cds, eds = 0, "", ""
		var refAck [2]*ackState
		all := true
		for i, ref := range refs {
			a := ref.ack.Load()
			if a == nil {
				all = false
				continue
			}
			if a.sum != checked[i] {
				final[i], checked[i] = ref.holdsFinal(spec, a), a.sum
			}
			refAck[i] = a
			all = all && final[i]
		}
		if all {
			ref := refAck[0]
			cds, eds = ref.cds, ref.eds
			for _, c := range f.clients {
				if a := c.ack.Load(); a != nil && a.sum == ref.sum && a.n == ref.n && a.cds == ref.cds && a.eds == ref.eds {
					n++
				}
			}
			if n == len(f.clients) {
				return n, cds, eds
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return n, cds, eds
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// holdsFinal reports whether reference client c's assignments, as of its
// ACK a, are those of spec: one for every VirtualDestination, each
// endpoint of the first cluster healthy exactly when spec has it ready.
func (c *adsClient) holdsFinal(spec worldSpec, a *ackState) bool {
	v := c.view
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.sum != a.sum || v.n < spec.vds {
		return false // an ACK in flight, or not every assignment
	}
	var m endpointv3.ClusterLoadAssignment
	for i := range spec.vds {
		body := v.bodies[c.f.names.id([]byte(edsName(i)))]
		if body == nil || proto.Unmarshal(body, &m) != nil {
			return false
		}
		for e := range spec.eps {
			if hasHealthyAddress(&m, endpointAddress(0, i, e)) == spec.down[endpointRef{i, e}] {
				return false
			}
		}
	}
	return true
}

// maxReconnects bounds a tracked client's new streams; then its error is
// the fleet's.
const maxReconnects = 20

// reconnectDelay is the wait before a tracked client's next stream: 0.25,
// 0.5, 1, then 2 s.
func reconnectDelay(attempt int) time.Duration {
	return 250 * time.Millisecond << min(attempt, 3)
}

func (f *fleet) reconnected(cause error) {
	f.reconnects.Add(1)
	msg := cause.Error()
	f.firstReconnect.CompareAndSwap(nil, &msg)
}

// resetStream forgets a tracked client's stream: a new one subscribes
// again and receives every assignment again.
func (c *adsClient) resetStream() {
	c.known, c.have, c.nKnown, c.nHave = nil, nil, 0, 0
	c.in = reply{}
	v := c.view
	v.mu.Lock()
	v.digest, v.n, v.sum = nil, 0, 0
	if v.bodies != nil {
		v.bodies = map[int32][]byte{}
	}
	v.mu.Unlock()
	c.ack.Store(nil)
}
