package main

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The clients read responses as raw bytes and walk only the fields they
// need (protowire) instead of unmarshalling thousands of Anys per response:
// on a 2-core machine the tool shares the CPU with the server it measures,
// so its own cost must stay small. For the same reason nothing of a
// response outlives its decoding: at 10,000 VirtualDestinations the first
// EDS response is ~9 MB, and 1,000 clients each keeping a copy (as a
// reused receive buffer) took the tool to ~14 GiB.

// rawCodec marshals requests (protobuf messages, or pieces already in wire
// form) and hands each response's bytes to the receiving client's decode
// function while gRPC still holds them.
type rawCodec struct{}

// sink receives responses: decode runs inside RecvMsg on the receiving
// goroutine, on buffers valid only during the call.
type sink struct {
	decode func(data mem.BufferSlice) error
}

// encoded is a request in wire form, in pieces sent without copying (the
// concatenation of encodings is the merged message), so one encoding of
// 10,000 EDS names serves every client's requests.
type encoded [][]byte

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case encoded:
		out := make(mem.BufferSlice, len(m))
		for i, b := range m {
			out[i] = mem.SliceBuffer(b)
		}
		return out, nil
	case proto.Message:
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	s, ok := v.(*sink)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	return s.decode(data)
}

func (rawCodec) Name() string { return "proto" }

const (
	sotwMethod  = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
	deltaMethod = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
)

func openStream(ctx context.Context, conn *grpc.ClientConn, method string) (grpc.ClientStream, error) {
	return conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodecV2(rawCodec{}))
}

// header is what a client answers a (delta) DiscoveryResponse with.
type header struct{ version, typeURL, nonce string }

// fields calls fn for each field of b; fn gets the bytes of length-delimited
// fields (nil otherwise).
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			fn(num, typ, v, 0)
			b = b[m:]
		case protowire.VarintType:
			x, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			fn(num, typ, nil, x)
			b = b[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return protowire.ParseError(m)
			}
			b = b[m:]
		}
	}
	return nil
}

// anyValue is Any.value (field 2).
func anyValue(b []byte) []byte {
	var v []byte
	_ = fields(b, func(num protowire.Number, typ protowire.Type, f []byte, _ uint64) {
		if num == 2 && typ == protowire.BytesType {
			v = f
		}
	})
	return v
}

// readHeader reads a DiscoveryResponse's or DeltaDiscoveryResponse's
// version_info 1, type_url 4 and nonce 5. Resources (2) come before
// type_url on the wire, so the type is known only after a first pass.
func readHeader(data mem.BufferSlice) (header, error) {
	var h header
	err := topFields(data, func(num protowire.Number) bool { return num != 2 }, func(num protowire.Number, v []byte) {
		switch num {
		case 1:
			h.version = string(v)
		case 4:
			h.typeURL = string(v)
		case 5:
			h.nonce = string(v)
		}
	})
	return h, err
}

// eachResource calls fn with every resource's body (Any.value) and, in a
// delta response (Resource: name 3, resource 2), its name; both are valid
// until data is released (the end of decode).
func eachResource(data mem.BufferSlice, delta bool, fn func(name, body []byte)) error {
	return topFields(data, func(num protowire.Number) bool { return num == 2 }, func(_ protowire.Number, v []byte) {
		if !delta {
			fn(nil, anyValue(v))
			return
		}
		var name, body []byte
		_ = fields(v, func(n protowire.Number, t protowire.Type, f []byte, _ uint64) {
			switch {
			case n == 3 && t == protowire.BytesType:
				name = f
			case n == 2 && t == protowire.BytesType:
				body = anyValue(f)
			}
		})
		fn(name, body)
	})
}

// topFields calls fn with the bytes of each length-delimited top-level
// field of the message in data that want selects, reading data where
// gRPC received it (chunks of up to a frame) rather than first copying a
// 9 MB response into one slice; the bytes are valid only until data is
// released (the end of decode).
func topFields(data mem.BufferSlice, want func(protowire.Number) bool, fn func(num protowire.Number, v []byte)) error {
	r := chunks{bufs: data}
	for !r.done() {
		tag, err := r.varint()
		if err != nil {
			return err
		}
		num, typ := protowire.DecodeTag(tag)
		switch typ {
		case protowire.BytesType:
			n, err := r.varint()
			if err != nil {
				return err
			}
			if !want(num) {
				err = r.skip(n)
			} else if v, e := r.take(n); e == nil {
				fn(num, v)
			} else {
				err = e
			}
			if err != nil {
				return err
			}
		case protowire.VarintType:
			if _, err := r.varint(); err != nil {
				return err
			}
		case protowire.Fixed32Type:
			err = r.skip(4)
		case protowire.Fixed64Type:
			err = r.skip(8)
		default:
			err = fmt.Errorf("field %d: unsupported wire type %d", num, typ)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var errTruncated = errors.New("truncated message")

// chunks reads a BufferSlice in order.
type chunks struct {
	bufs mem.BufferSlice
	cur  []byte // the unread rest of the buffer being read
}

// fill makes cur non-empty unless all is read.
func (r *chunks) fill() bool {
	for len(r.cur) == 0 {
		if len(r.bufs) == 0 {
			return false
		}
		r.cur, r.bufs = r.bufs[0].ReadOnlyData(), r.bufs[1:]
	}
	return true
}

func (r *chunks) done() bool { return !r.fill() }

func (r *chunks) varint() (uint64, error) {
	var x uint64
	for shift := 0; shift < 64; shift += 7 {
		if !r.fill() {
			return 0, errTruncated
		}
		b := r.cur[0]
		r.cur = r.cur[1:]
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x, nil
		}
	}
	return 0, errors.New("varint overflow")
}

func (r *chunks) skip(n uint64) error {
	for n > 0 {
		if !r.fill() {
			return errTruncated
		}
		k := min(n, uint64(len(r.cur)))
		r.cur, n = r.cur[k:], n-k
	}
	return nil
}

// take returns the next n bytes: aliasing a buffer when they lie in one,
// else a copy (a field spanning buffers); either stays valid while gRPC
// holds the message, so callers may keep slices of it during decode.
func (r *chunks) take(n uint64) ([]byte, error) {
	if !r.fill() && n > 0 {
		return nil, errTruncated
	}
	if n <= uint64(len(r.cur)) {
		v := r.cur[:n]
		r.cur = r.cur[n:]
		return v, nil
	}
	v := make([]byte, 0, min(n, 1<<20)) // a corrupt length fails below

	for uint64(len(v)) < n {
		if !r.fill() {
			return nil, errTruncated
		}
		k := min(n-uint64(len(v)), uint64(len(r.cur)))
		v, r.cur = append(v, r.cur[:k]...), r.cur[k:]
	}
	return v, nil
}
