package main

import (
	"slices"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// split cuts b into buffers of n bytes, as gRPC hands over a message
// received in several frames.
func split(b []byte, n int) mem.BufferSlice {
	var out mem.BufferSlice
	for len(b) > 0 {
		k := min(n, len(b))
		out, b = append(out, mem.SliceBuffer(b[:k])), b[k:]
	}
	return out
}

func TestParseResponse(t *testing.T) {
	a := &anypb.Any{TypeUrl: "t", Value: []byte("body")}
	sotw, _ := proto.Marshal(&discoveryv3.DiscoveryResponse{VersionInfo: "v1", TypeUrl: "type", Nonce: "n1", Resources: []*anypb.Any{a, a}})
	delta, _ := proto.Marshal(&discoveryv3.DeltaDiscoveryResponse{TypeUrl: "type", Nonce: "n2",
		Resources: []*discoveryv3.Resource{{Name: "x", Version: "1", Resource: a}, {Name: "y", Resource: a}}})
	for _, n := range []int{1, 3, 7, len(sotw)} {
		h, err := readHeader(split(sotw, n))
		var bodies []string
		if err == nil {
			err = eachResource(split(sotw, n), false, func(_, body []byte) { bodies = append(bodies, string(body)) })
		}
		if err != nil || h != (header{"v1", "type", "n1"}) || !slices.Equal(bodies, []string{"body", "body"}) {
			t.Fatalf("sotw in %d-byte buffers: %+v %q %v", n, h, bodies, err)
		}
		h, err = readHeader(split(delta, n))
		var names []string
		bodies = nil
		if err == nil {
			// Kept as slices until decode ends, as clients keep names.
			var kept [][]byte
			err = eachResource(split(delta, n), true, func(name, body []byte) { kept = append(kept, name, body) })
			for i := 0; i < len(kept); i += 2 {
				names, bodies = append(names, string(kept[i])), append(bodies, string(kept[i+1]))
			}
		}
		if err != nil || h.nonce != "n2" || !slices.Equal(names, []string{"x", "y"}) || !slices.Equal(bodies, []string{"body", "body"}) {
			t.Fatalf("delta in %d-byte buffers: %+v %q %q %v", n, h, names, bodies, err)
		}
	}
	if _, err := readHeader(split(sotw[:len(sotw)-1], 5)); err == nil {
		t.Fatal("truncated response read without error")
	}
}

// TestCodec: a response reaches decode as gRPC received it; a request in
// pieces (the shared EDS names) is the merged message, as a
// state-of-the-world request and as a delta subscription.
func TestCodec(t *testing.T) {
	want := split([]byte("response"), 3)
	var got mem.BufferSlice
	s := &sink{decode: func(data mem.BufferSlice) error { got = data; return nil }}
	if err := (rawCodec{}).Unmarshal(want, s); err != nil || len(got) != len(want) {
		t.Fatalf("unmarshal: %v %v", got, err)
	}
	list := (&edsLists{}).share([][]byte{[]byte("a"), []byte("b")})
	marshal := func(req encoded, m proto.Message) {
		t.Helper()
		out, err := (rawCodec{}).Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(out.Materialize(), m); err != nil {
			t.Fatal(err)
		}
	}
	var m discoveryv3.DiscoveryRequest
	req, err := edsRequest("v2", "n2", list)
	if err != nil {
		t.Fatal(err)
	}
	marshal(req, &m)
	if m.GetVersionInfo() != "v2" || m.GetResponseNonce() != "n2" || !slices.Equal(m.GetResourceNames(), []string{"a", "b"}) {
		t.Fatalf("request: %v", &m)
	}
	var d discoveryv3.DeltaDiscoveryRequest
	if req, err = subscribeRequest(list); err != nil {
		t.Fatal(err)
	}
	marshal(req, &d)
	if d.GetTypeUrl() == "" || !slices.Equal(d.GetResourceNamesSubscribe(), []string{"a", "b"}) {
		t.Fatalf("subscription: %v", &d)
	}
}

func TestSharedNames(t *testing.T) {
	var lists edsLists
	one := lists.share([][]byte{[]byte("a"), []byte("b")})
	if two := lists.share([][]byte{[]byte("a"), []byte("b")}); two != one {
		t.Fatal("equal lists not shared")
	}
	if three := lists.share([][]byte{[]byte("a")}); three.same(one) || !(*edsList)(nil).same(lists.share(nil)) {
		t.Fatal("same is wrong")
	}
	var names nameTable
	var set bitset
	ida, idb := names.id([]byte("a")), names.id([]byte("b"))
	if again := names.id([]byte("a")); again != ida || idb == ida {
		t.Fatalf("ids %d %d %d", ida, idb, again)
	}
	if !set.add(ida) || set.add(ida) || !set.add(idb) || !set.add(200) {
		t.Fatal("bitset add")
	}
}
