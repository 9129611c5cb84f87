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
	return requestCodec{CodecV2: encoding.GetCodecV2(protoenc.Name), names: &internTable{}, lists: &nameLists{}}
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
		buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
		defer buf.Free()
		names, err := c.decode(buf.ReadOnlyData(), req, sotwNamesField, 0)
		req.ResourceNames = names[0]
		return err
	case *discoveryv3.DeltaDiscoveryRequest:
		buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
		defer buf.Free()
		names, err := c.decode(buf.ReadOnlyData(), req, deltaSubscribeField, deltaUnsubscribeField)
		req.ResourceNamesSubscribe, req.ResourceNamesUnsubscribe = names[0], names[1]
		return err
	}
	return c.CodecV2.Unmarshal(data, v)
}

// decode unmarshals b into m, except for the string fields f0 and f1
// (0: none), which it returns interned.
func (c requestCodec) decode(b []byte, m proto.Message, f0, f1 protowire.Number) ([2][]string, error) {
	var names [2][]string
	sc := scanFields(b, f0, f1)
	// A state-of-the-world proxy repeats the same long list in every ACK,
	// and proxies of a class send the same one (so do delta proxies
	// subscribing): decode it once.
	shared := sc.n1 == 0 && sc.n0 >= sharedListMin
	if shared {
		names[0] = c.lists.get(sc.key)
	}
	if names[0] == nil && sc.n0+sc.n1 > 0 {
		// Exactly sized: a proxy may name thousands of resources per request.
		names[0], names[1] = make([]string, 0, sc.n0), make([]string, 0, sc.n1)
	} else if names[0] != nil {
		f0, shared = -1, false // already decoded: skip those fields below
	}
	rest := make([]byte, 0, 256)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return names, protowire.ParseError(n)
		}
		field := b[:n]
		l := protowire.ConsumeFieldValue(num, typ, b[n:])
		if l < 0 {
			return names, protowire.ParseError(l)
		}
		value := b[n : n+l]
		b = b[n+l:]
		if f0 == -1 && num == sotwNamesField && typ == protowire.BytesType {
			continue
		}
		if typ == protowire.BytesType && (num == f0 || num == f1) {
			s, k := protowire.ConsumeBytes(value)
			if k < 0 {
				return names, protowire.ParseError(k)
			}
			if !utf8.Valid(s) {
				return names, errors.New("resource name is not valid UTF-8")
			}
			i := 0
			if num == f1 {
				i = 1
			}
			names[i] = append(names[i], c.names.intern(s))
			continue
		}
		rest = append(append(rest, field...), value...)
	}
	if shared {
		c.lists.put(sc.key, names[0])
	}
	return names, proto.Unmarshal(rest, m)
}

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

// scanFields counts fields f0 and f1 of b and keys f0's values (nothing
// for malformed input, which decode reports). Encoders write a
// repeated field's values together, so the key is normally two hashes of
// one byte range; scattered values are hashed one by one.
func scanFields(b []byte, f0, f1 protowire.Number) fieldScan {
	var sc fieldScan
	all := b
	start, end, runs := 0, 0, 0 // the byte range of f0's values, and how many runs
	for off := 0; off < len(all); {
		num, typ, n := protowire.ConsumeTag(all[off:])
		if n < 0 {
			return fieldScan{} // malformed: decode reports it
		}
		l := protowire.ConsumeFieldValue(num, typ, all[off+n:])
		if l < 0 {
			return fieldScan{}
		}
		switch {
		case typ != protowire.BytesType:
		case num == f0:
			if sc.n0 == 0 || end != off {
				start, runs = off, runs+1
			}
			sc.n0++
			sc.key.size += n + l
			end = off + n + l
		case num == f1 && f1 != 0:
			sc.n1++
		}
		off += n + l
	}
	sc.key.n = sc.n0
	if runs <= 1 {
		sc.key.h1, sc.key.h2 = maphash.Bytes(listSeed1, all[start:end]), maphash.Bytes(listSeed2, all[start:end])
		return sc
	}
	var h1, h2 maphash.Hash
	h1.SetSeed(listSeed1)
	h2.SetSeed(listSeed2)
	for off := 0; off < len(all); {
		num, typ, n := protowire.ConsumeTag(all[off:])
		l := protowire.ConsumeFieldValue(num, typ, all[off+n:])
		if typ == protowire.BytesType && num == f0 {
			h1.Write(all[off : off+n+l])
			h2.Write(all[off : off+n+l])
		}
		off += n + l
	}
	sc.key.h1, sc.key.h2 = h1.Sum64(), h2.Sum64()
	return sc
}

// nameLists remembers the last few long lists decoded, and their name
// sums, for requests that repeat them. The lists are shared: readers never
// modify a request's names.
type nameLists struct {
	mu      sync.Mutex
	entries [8]nameList
	next    int
}

type nameList struct {
	key   listKey
	names []string
	sum   nameSum
}

func (l *nameLists) get(k listKey) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if e.names != nil && e.key == k {
			return e.names
		}
	}
	return nil
}

func (l *nameLists) put(k listKey, names []string) {
	var sum nameSum
	for _, n := range names {
		sum.add(n)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries[l.next] = nameList{key: k, names: names, sum: sum}
	l.next = (l.next + 1) % len(l.entries)
}

// sumOf returns the name sum of a list decoded as shared, by identity.
func (l *nameLists) sumOf(names []string) (nameSum, bool) {
	if l == nil || len(names) == 0 {
		return nameSum{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if len(e.names) == len(names) && &e.names[0] == &names[0] {
			return e.sum, true
		}
	}
	return nameSum{}, false
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
