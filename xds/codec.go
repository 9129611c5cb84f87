package xds

import (
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// requestCodec is the server's gRPC codec: protobuf, except that the
// resource names of discovery requests are interned. A state-of-the-world
// proxy repeats every name it wants in every request (each EDS ACK of a
// gateway names every cluster), so with many proxies the decoded copies of
// the same names were a large part of the heap and of the garbage.
type requestCodec struct {
	encoding.CodecV2
	names *internTable
	lists *nameLists
}

func newRequestCodec() requestCodec {
	return requestCodec{CodecV2: encoding.GetCodecV2(protoenc.Name), names: &internTable{}, lists: newNameLists()}
}

// Field numbers of the names interned: resource_names of a
// DiscoveryRequest; resource_names_subscribe and _unsubscribe of a
// DeltaDiscoveryRequest.
const (
	sotwNamesField        = 3
	deltaSubscribeField   = 3
	deltaUnsubscribeField = 4
)

// unpooledSize is the encoded size from which a response is encoded into
// its own buffer, left to the garbage collector once written, rather than
// one from gRPC's pool: pooled buffers of initial syncs (megabytes each,
// one per stream) otherwise stay cached long after the burst.
const unpooledSize = 1 << 20

// sharedResponse is a response sent as its own fields (head) followed by
// the encoded resources it shares with other streams' responses (body).
type sharedResponse struct {
	head proto.Message
	body []byte
}

func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*sharedResponse); ok {
		head, err := proto.Marshal(r.head)
		if err != nil {
			return nil, err
		}
		// Both are read-only here: SliceBuffer's Free does not recycle.
		return mem.BufferSlice{mem.SliceBuffer(head), mem.SliceBuffer(r.body)}, nil
	}
	if m, ok := v.(proto.Message); ok {
		if size := proto.Size(m); size >= unpooledSize {
			if out, ok, err := byReference(m); ok {
				return out, err
			}
			b, err := proto.MarshalOptions{}.MarshalAppend(make([]byte, 0, size), m)
			if err != nil {
				return nil, err
			}
			return mem.BufferSlice{mem.SliceBuffer(b)}, nil
		}
	}
	return c.CodecV2.Marshal(v)
}

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch req := v.(type) {
	case *discoveryv3.DiscoveryRequest:
		names, err := c.decode(data, req, sotwNamesField, 0)
		req.ResourceNames = names[0]
		return err
	case *discoveryv3.DeltaDiscoveryRequest:
		names, err := c.decode(data, req, deltaSubscribeField, deltaUnsubscribeField)
		req.ResourceNamesSubscribe, req.ResourceNamesUnsubscribe = names[0], names[1]
		return err
	}
	return c.CodecV2.Unmarshal(data, v)
}

// decode unmarshals data into m, except for the string fields f0 and f1
// (0: none), which it returns interned. It reads gRPC's buffers in place,
// never joining them into one: a state-of-the-world ACK names every
// resource (300 KB at 10k clusters), and a burst of them from many proxies
// at once would otherwise hold a joined copy each.
func (c requestCodec) decode(data mem.BufferSlice, m proto.Message, f0, f1 protowire.Number) ([2][]string, error) {
	var names [2][]string
	sc, err := scanFields(data, f0, f1)
	if errors.Is(err, errGroup) { // no discovery request has groups: leave it to protobuf
		return names, c.CodecV2.Unmarshal(data, m)
	}
	if err != nil {
		return names, err
	}
	// A state-of-the-world proxy repeats the same long list in every ACK,
	// and proxies of a class send the same one (so do delta proxies
	// subscribing): decode it once, and while one request decodes a list,
	// the others naming it wait for that decode instead of making their own.
	var flight *listFlight
	decoded := false // the whole request, so names[0] can be shared
	if sc.n1 == 0 && sc.n0 >= sharedListMin {
		names[0], flight = c.lists.acquire(sc.key)
		if flight != nil {
			c.lists.slots <- struct{}{} // bound the large decodes under way
			c.lists.decoding(1)
			defer func() {
				c.lists.decoding(-1)
				<-c.lists.slots
				var shared []string
				if decoded {
					shared = names[0]
				}
				c.lists.finish(sc.key, flight, shared)
			}()
		}
	}
	skip := names[0] != nil // already decoded: skip f0 below
	if !skip && sc.n0+sc.n1 > 0 {
		// Exactly sized: a proxy may name thousands of resources per request.
		names[0], names[1] = make([]string, 0, sc.n0), make([]string, 0, sc.n1)
	}
	rest := restPool.Get().(*[]byte)
	defer func() {
		if cap(*rest) <= maxPooledRest {
			*rest = (*rest)[:0]
			restPool.Put(rest)
		}
	}()
	r := wireReader{segs: segmentsOf(data)}
	for !r.empty() {
		num, typ, v, b, err := r.field()
		if err != nil {
			return [2][]string{}, err
		}
		if typ == protowire.BytesType && (num == f0 || num == f1) {
			if skip && num == f0 {
				continue
			}
			if !utf8.Valid(b) {
				return [2][]string{}, errors.New("resource name is not valid UTF-8")
			}
			i := 0
			if num == f1 {
				i = 1
			}
			names[i] = append(names[i], c.names.intern(b))
			continue
		}
		if r.raw != nil { // as sent: a re-encoding may differ (a varint sent non-minimal)
			*rest = append(*rest, r.raw...)
			continue
		}
		*rest = appendField(*rest, num, typ, v, b)
	}
	if err := proto.Unmarshal(*rest, m); err != nil {
		return [2][]string{}, err
	}
	decoded = true
	return names, nil
}

// restPool recycles the buffers that collect a request's other fields.
var restPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledRest is the largest such buffer kept (a node with much metadata
// is sent once per stream).
const maxPooledRest = 16 << 10

// sharedListMin is the list length from which decoded lists are shared.
const sharedListMin = 64

// listKey identifies a list of names by content: two independent hashes
// of every name (with its length), the count and the total length.
type listKey struct {
	h1, h2  uint64
	n, size int
}

// fieldScan is what one pass over a request finds: the counts of fields
// f0 and f1 and the key of f0's list.
type fieldScan struct {
	n0, n1 int
	key    listKey
}

var listSeed1, listSeed2 = maphash.MakeSeed(), maphash.MakeSeed()

// scanFields counts fields f0 and f1 of data and keys f0's values by
// hashing their encodings, however gRPC's buffers split them: encoders
// write a repeated field's values together, so the hashes normally run
// over long stretches of a buffer. It reports malformed input.
func scanFields(data mem.BufferSlice, f0, f1 protowire.Number) (fieldScan, error) {
	var sc fieldScan
	var h1, h2 maphash.Hash
	h1.SetSeed(listSeed1)
	h2.SetSeed(listSeed2)
	var run []byte // f0 encodings read in place, not hashed yet
	flush := func() {
		h1.Write(run)
		h2.Write(run)
		run = nil
	}
	var enc []byte
	r := wireReader{segs: segmentsOf(data)}
	for !r.empty() {
		num, typ, _, b, err := r.field()
		if err != nil {
			return fieldScan{}, err
		}
		switch {
		case typ != protowire.BytesType:
		case num == f0:
			sc.n0++
			if r.raw == nil { // split over buffers: hash its encoding
				flush()
				enc = protowire.AppendBytes(protowire.AppendTag(enc[:0], num, typ), b)
				h1.Write(enc)
				h2.Write(enc)
				sc.key.size += len(enc)
				continue
			}
			sc.key.size += len(r.raw)
			if len(run) > 0 && cap(run) > len(run) && &run[:len(run)+1][len(run)] == &r.raw[0] {
				run = run[:len(run)+len(r.raw)] // follows on: extend
				continue
			}
			flush()
			run = r.raw
			continue
		case num == f1 && f1 != 0:
			sc.n1++
		}
	}
	flush()
	sc.key.n = sc.n0
	sc.key.h1, sc.key.h2 = h1.Sum64(), h2.Sum64()
	return sc, nil
}

// internTable is a lossy, lock-free intern table: a direct-mapped cache of
// strings by hash. A miss just allocates; memory stays bounded.
type internTable struct {
	slots [1 << 16]atomic.Pointer[string]
}

var internSeed = maphash.MakeSeed()

func (t *internTable) intern(b []byte) string {
	slot := &t.slots[maphash.Bytes(internSeed, b)&(uint64(len(t.slots))-1)]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}
