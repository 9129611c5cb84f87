package xds

import (
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// A large response that is not a whole set (wholeBody) names some of a
// set's resources: a changed 5 MB route configuration, say, sent to every
// proxy of a class. Marshalled as usual, each stream copies every
// resource's encoding into a buffer of its own, which was most of a
// route change's CPU and garbage with 1,000 proxies. Instead the response
// is its own fields, then per resource a few header bytes and the
// resource's encoding itself, shared with every other stream: encodings
// of a message concatenate to their merge, and fields may come in any
// order.

// Field numbers written by hand below.
const (
	responseResourcesField = 2 // DiscoveryResponse and DeltaDiscoveryResponse .resources
	deltaResourceAnyField  = 2 // Resource.resource
	anyTypeURLField        = 1
	anyValueField          = 2
	// headerRoom is enough for the tags and lengths a resource's header
	// holds besides its type URL and other fields.
	headerRoom = 48
)

// byReference encodes m as sotwByReference or deltaByReference do, when m
// is such a response whose Anys carry nothing but a type URL and a value
// (ok false: encode it as usual).
func byReference(m proto.Message) (out mem.BufferSlice, ok bool, err error) {
	switch r := m.(type) {
	case *discoveryv3.DiscoveryResponse:
		if plainAnys(r.Resources) {
			out, err = sotwByReference(r)
			return out, true, err
		}
	case *discoveryv3.DeltaDiscoveryResponse:
		anys := make([]*anypb.Any, len(r.Resources))
		for i, res := range r.Resources {
			anys[i] = res.GetResource()
		}
		if plainAnys(anys) {
			out, err = deltaByReference(r)
			return out, true, err
		}
	}
	return nil, false, nil
}

// plainAnys reports whether no Any kept unknown fields from a decode (the
// hand encoding writes only the type URL and the value).
func plainAnys(anys []*anypb.Any) bool {
	for _, a := range anys {
		if a != nil && len(a.ProtoReflect().GetUnknown()) > 0 {
			return false
		}
	}
	return true
}

// withoutField is a shallow copy of m without field num: the other
// fields' values are shared, read only, with m.
func withoutField(m proto.Message, num protowire.Number) proto.Message {
	src := m.ProtoReflect()
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Number() != num {
			dst.Set(fd, v)
		}
		return true
	})
	dst.SetUnknown(src.GetUnknown())
	return dst.Interface()
}

// sotwByReference is r encoded with its resources' values by reference.
func sotwByReference(r *discoveryv3.DiscoveryResponse) (mem.BufferSlice, error) {
	head, err := proto.Marshal(withoutField(r, responseResourcesField))
	if err != nil {
		return nil, err
	}
	out := mem.BufferSlice{mem.SliceBuffer(head)}
	for _, a := range r.Resources {
		hdr := protowire.AppendTag(make([]byte, 0, headerRoom+len(a.GetTypeUrl())), responseResourcesField, protowire.BytesType)
		hdr = protowire.AppendVarint(hdr, uint64(anySize(a)))
		out = appendAny(out, hdr, a)
	}
	return out, nil
}

// deltaByReference is r encoded with its resources' values by reference.
func deltaByReference(r *discoveryv3.DeltaDiscoveryResponse) (mem.BufferSlice, error) {
	head, err := proto.Marshal(withoutField(r, responseResourcesField))
	if err != nil {
		return nil, err
	}
	out := mem.BufferSlice{mem.SliceBuffer(head)}
	for _, res := range r.Resources {
		rest, err := proto.Marshal(withoutField(res, deltaResourceAnyField))
		if err != nil {
			return nil, err
		}
		size := len(rest)
		a := res.Resource
		if a != nil {
			size += protowire.SizeTag(deltaResourceAnyField) + protowire.SizeBytes(anySize(a))
		}
		hdr := protowire.AppendTag(make([]byte, 0, headerRoom+len(rest)+len(a.GetTypeUrl())), responseResourcesField, protowire.BytesType)
		hdr = protowire.AppendVarint(hdr, uint64(size))
		hdr = append(hdr, rest...)
		if a == nil {
			out = append(out, mem.SliceBuffer(hdr))
			continue
		}
		hdr = protowire.AppendTag(hdr, deltaResourceAnyField, protowire.BytesType)
		hdr = protowire.AppendVarint(hdr, uint64(anySize(a)))
		out = appendAny(out, hdr, a)
	}
	return out, nil
}

// anySize is the encoded size of a (its type URL and value; the server's
// Anys have no other fields).
func anySize(a *anypb.Any) int {
	n := 0
	if a.GetTypeUrl() != "" {
		n += protowire.SizeTag(anyTypeURLField) + protowire.SizeBytes(len(a.GetTypeUrl()))
	}
	if len(a.GetValue()) > 0 {
		n += protowire.SizeTag(anyValueField) + protowire.SizeBytes(len(a.GetValue()))
	}
	return n
}

// appendAny appends hdr followed by a's encoding to out: its type URL and
// value's header into hdr, the value itself by reference.
func appendAny(out mem.BufferSlice, hdr []byte, a *anypb.Any) mem.BufferSlice {
	if a.GetTypeUrl() != "" {
		hdr = protowire.AppendTag(hdr, anyTypeURLField, protowire.BytesType)
		hdr = protowire.AppendString(hdr, a.GetTypeUrl())
	}
	if len(a.GetValue()) == 0 {
		return append(out, mem.SliceBuffer(hdr))
	}
	hdr = protowire.AppendTag(hdr, anyValueField, protowire.BytesType)
	hdr = protowire.AppendVarint(hdr, uint64(len(a.GetValue())))
	// Both read-only: SliceBuffer's Free does not recycle.
	return append(out, mem.SliceBuffer(hdr), mem.SliceBuffer(a.GetValue()))
}
