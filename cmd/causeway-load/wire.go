package main

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// The clients read responses as raw bytes and walk only the fields they
// need (protowire) instead of unmarshalling thousands of Anys per response:
// on a 2-core machine the tool shares the CPU with the server it measures,
// so its own cost must stay small.

// rawCodec marshals requests as protobuf and hands responses over as bytes.
type rawCodec struct{}

type rawMsg struct{ b []byte }

func (rawCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return proto.Marshal(m)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(*rawMsg)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	m.b = append(m.b[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

const (
	sotwMethod  = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
	deltaMethod = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"
)

func openStream(ctx context.Context, conn *grpc.ClientConn, method string) (grpc.ClientStream, error) {
	return conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodec(rawCodec{}))
}

// response is what a client needs of a (delta) DiscoveryResponse; the
// byte slices alias the received message.
type response struct {
	version, typeURL, nonce string
	// resources are the resource bodies (Any.value); names are set for
	// delta responses (Resource.name).
	resources [][]byte
	names     [][]byte
}

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

// parseResponse reads a DiscoveryResponse (delta=false) or a
// DeltaDiscoveryResponse: type_url 4 and nonce 5 in both; version_info 1;
// resources 2 (Any, or Resource with name 3 and resource 2).
func parseResponse(b []byte, delta bool) (response, error) {
	var r response
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) {
		if typ != protowire.BytesType {
			return
		}
		switch num {
		case 1:
			r.version = string(v)
		case 4:
			r.typeURL = string(v)
		case 5:
			r.nonce = string(v)
		case 2:
			if !delta {
				r.resources = append(r.resources, anyValue(v))
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
			r.names = append(r.names, name)
			r.resources = append(r.resources, body)
		}
	})
	return r, err
}
