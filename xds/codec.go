package xds

import (
	"errors"
	"hash/maphash"
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
}

func newRequestCodec() requestCodec {
	return requestCodec{CodecV2: encoding.GetCodecV2(protoenc.Name), names: &internTable{}}
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

func (c requestCodec) Marshal(v any) (mem.BufferSlice, error) {
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
	if n0, n1 := countFields(b, f0, f1); n0+n1 > 0 {
		// Exactly sized: a proxy may name thousands of resources per request.
		names[0], names[1] = make([]string, 0, n0), make([]string, 0, n1)
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
	return names, proto.Unmarshal(rest, m)
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

// countFields counts the occurrences of fields f0 and f1 in b (stopping
// quietly at malformed input, which decode reports).
func countFields(b []byte, f0, f1 protowire.Number) (n0, n1 int) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		l := protowire.ConsumeFieldValue(num, typ, b[n:])
		if l < 0 {
			return
		}
		b = b[n+l:]
		switch {
		case typ != protowire.BytesType:
		case num == f0:
			n0++
		case num == f1 && f1 != 0:
			n1++
		}
	}
	return
}
