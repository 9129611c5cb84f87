package xds

import (
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

// The request codec decodes exactly what protobuf does, with equal names
// sharing one string across requests.
func TestRequestCodecDecodesLikeProtobuf(t *testing.T) {
	c := newRequestCodec()
	node := &corev3.Node{Id: "gw-1", Cluster: "c1"}
	cases := []proto.Message{
		&discoveryv3.DiscoveryRequest{VersionInfo: "v1", Node: node, ResourceNames: []string{"a", "b", "a", ""}, TypeUrl: "t", ResponseNonce: "7", ErrorDetail: &status.Status{Code: 3, Message: "bad"}},
		&discoveryv3.DiscoveryRequest{TypeUrl: "t"},
		&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: "t", ResourceNamesSubscribe: []string{"x", "y"}, ResourceNamesUnsubscribe: []string{"z"}, InitialResourceVersions: map[string]string{"x": "1"}, ResponseNonce: "3"},
	}
	for _, want := range cases {
		b, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got := want.ProtoReflect().New().Interface()
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
			t.Errorf("decoded differently (-protobuf +codec):\n%s", d)
		}
	}
	decode := func() string {
		b, _ := proto.Marshal(&discoveryv3.DiscoveryRequest{ResourceNames: []string{"outbound|80||reviews.mesh"}})
		r := &discoveryv3.DiscoveryRequest{}
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, r); err != nil {
			t.Fatal(err)
		}
		return r.ResourceNames[0]
	}
	a, b := decode(), decode()
	if unsafeData(a) != unsafeData(b) {
		t.Error("the same name decoded twice is not one string")
	}
	for name, bad := range map[string][]byte{
		"length past the end": {0x1a, 0x05, 'a'},
		"invalid UTF-8":       {0x1a, 0x01, 0xff},
	} {
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(bad)}, &discoveryv3.DiscoveryRequest{}); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }

// Messages encode as protobuf does, whether in a pooled buffer (small) or
// their own (large); a large response is written by reference
// (codec_refs.go): another field order, the same message.
func TestRequestCodecMarshalsLikeProtobuf(t *testing.T) {
	c := newRequestCodec()
	for _, size := range []int{10, unpooledSize + 10} {
		for _, m := range []proto.Message{
			&discoveryv3.DiscoveryResponse{VersionInfo: "v", TypeUrl: "t", Nonce: "1",
				Resources: []*anypb.Any{{TypeUrl: "t", Value: make([]byte, size)}}},
			&anypb.Any{TypeUrl: "t", Value: make([]byte, size)},
		} {
			want, err := proto.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			b := got.Materialize()
			if _, response := m.(*discoveryv3.DiscoveryResponse); response && size > unpooledSize {
				back := &discoveryv3.DiscoveryResponse{}
				if err := proto.Unmarshal(b, back); err != nil || !proto.Equal(back, m) || len(b) != len(want) {
					t.Errorf("size %d: response by reference decodes to another message (%v, %d vs %d bytes)", size, err, len(b), len(want))
				}
			} else if string(b) != string(want) {
				t.Errorf("size %d %T: encoding differs from proto.Marshal (%d vs %d bytes)", size, m, len(b), len(want))
			}
			got.Free()
		}
	}
}

// A long list repeated by requests is decoded once and shared, with its
// name sum; a different list (even by one name) is not confused with it.
func TestRequestCodecSharesRepeatedLists(t *testing.T) {
	c := newRequestCodec()
	list := func(last string) []string {
		var names []string
		for i := range sharedListMin + 10 {
			names = append(names, fmt.Sprintf("outbound|80||app-%d.mesh.internal", i))
		}
		return append(names, last)
	}
	decode := func(names []string) []string {
		b, err := proto.Marshal(&discoveryv3.DiscoveryRequest{TypeUrl: "t", ResourceNames: names, ResponseNonce: "1"})
		if err != nil {
			t.Fatal(err)
		}
		r := &discoveryv3.DiscoveryRequest{}
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, r); err != nil {
			t.Fatal(err)
		}
		if r.GetTypeUrl() != "t" || r.GetResponseNonce() != "1" {
			t.Errorf("other fields lost: %v", r)
		}
		return r.ResourceNames
	}
	a, b, other := decode(list("x")), decode(list("x")), decode(list("y"))
	if d := cmp.Diff(list("x"), b); d != "" {
		t.Errorf("shared list decoded wrongly (-want +got):\n%s", d)
	}
	if &a[0] != &b[0] {
		t.Error("a repeated list was decoded again")
	}
	if d := cmp.Diff(list("y"), other); d != "" || &other[0] == &a[0] {
		t.Errorf("a different list was taken for the shared one:\n%s", d)
	}
	// The same list with another field between its values: the same key.
	var scattered []byte
	for i, n := range list("x") {
		scattered = protowire.AppendTag(scattered, sotwNamesField, protowire.BytesType)
		scattered = protowire.AppendString(scattered, n)
		if i == 3 {
			scattered = protowire.AppendTag(scattered, 4, protowire.BytesType) // type_url
			scattered = protowire.AppendString(scattered, "t")
		}
	}
	r := &discoveryv3.DiscoveryRequest{}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(scattered)}, r); err != nil {
		t.Fatal(err)
	}
	if r.GetTypeUrl() != "t" || len(r.ResourceNames) == 0 || &r.ResourceNames[0] != &a[0] {
		t.Errorf("scattered list not recognised as the shared one (type %q, %d names)", r.GetTypeUrl(), len(r.ResourceNames))
	}
	var want nameSum
	for _, n := range list("x") {
		want.add(n)
	}
	if got, ok := c.lists.sumOf(b); !ok || got != want {
		t.Errorf("sumOf = %v, %v; want %v, true", got, ok, want)
	}
	if _, ok := c.lists.sumOf(list("x")); ok {
		t.Error("sumOf knew a list it did not decode")
	}
}

// Requests split over many buffers (as gRPC receives them, in HTTP/2
// frames) decode as protobuf decodes them joined, wherever the cuts fall:
// inside a tag, a length, a name.
func TestRequestCodecDecodesSplitBuffers(t *testing.T) {
	c := newRequestCodec()
	var names []string
	for i := range sharedListMin + 5 {
		names = append(names, fmt.Sprintf("outbound|80||app-%d.mesh.internal", i))
	}
	node := &corev3.Node{Id: "gw-1", Cluster: "c1"}
	var first *string
	for _, want := range []proto.Message{
		&discoveryv3.DiscoveryRequest{VersionInfo: "v1", Node: node, ResourceNames: names, TypeUrl: "t", ResponseNonce: "7", ErrorDetail: &status.Status{Code: 3, Message: "bad"}},
		&discoveryv3.DiscoveryRequest{VersionInfo: "v2", ResourceNames: names[:3], TypeUrl: "t"},
		&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: "t", ResourceNamesSubscribe: names, ResourceNamesUnsubscribe: []string{"z"}, InitialResourceVersions: map[string]string{"x": "1"}},
	} {
		b, err := proto.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 2, 3, 7, 64, len(b) - 1} {
			var data mem.BufferSlice
			for off := 0; off < len(b); off += size {
				data = append(data, mem.SliceBuffer(b[off:min(off+size, len(b))]))
			}
			got := want.ProtoReflect().New().Interface()
			if err := c.Unmarshal(data, got); err != nil {
				t.Fatalf("pieces of %d bytes: %v", size, err)
			}
			if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
				t.Errorf("pieces of %d bytes: decoded differently (-protobuf +codec):\n%s", size, d)
			}
			// However split, a long list is recognised as the one decoded before.
			if r, ok := got.(*discoveryv3.DiscoveryRequest); ok && len(r.ResourceNames) == len(names) {
				if first == nil {
					first = &r.ResourceNames[0]
				} else if &r.ResourceNames[0] != first {
					t.Errorf("pieces of %d bytes: the list was decoded again, not shared", size)
				}
			}
		}
		// Cut short anywhere: an error, never a panic.
		for cut := 1; cut < len(b); cut += 97 {
			_ = c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b[:cut])}, want.ProtoReflect().New().Interface())
		}
	}
}

// A burst of requests naming the same new long list decodes it once: the
// others wait for that decode and share its result.
func TestRequestCodecDecodesABurstOfOneListOnce(t *testing.T) {
	c := newRequestCodec()
	defer func(h func()) { listDecodeHook = h }(listDecodeHook)
	listDecodeHook = func() { time.Sleep(20 * time.Millisecond) } // the others arrive meanwhile
	b := encodedList(t, 0, 500)
	const burst = 50
	got := make([][]string, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() {
			r := &discoveryv3.DiscoveryRequest{}
			if err := c.Unmarshal(splitEvery(b, 16<<10), r); err != nil {
				t.Error(err)
			}
			got[i] = r.ResourceNames
		})
	}
	wg.Wait()
	if n := c.lists.decodes.Load(); n != 1 {
		t.Errorf("%d requests naming one list decoded it %d times, want once", burst, n)
	}
	for i := range got {
		if len(got[i]) != 500 || &got[i][0] != &got[0][0] {
			t.Fatalf("request %d did not get the shared list (%d names)", i, len(got[i]))
		}
	}
}

// Different long lists arriving at once are decoded at most
// maxListDecodes at a time.
func TestRequestCodecBoundsConcurrentListDecodes(t *testing.T) {
	c := newRequestCodec()
	defer func(h func()) { listDecodeHook = h }(listDecodeHook)
	listDecodeHook = func() { time.Sleep(5 * time.Millisecond) } // decodes overlap unless bounded
	const lists = 40
	var wg sync.WaitGroup
	for i := range lists {
		b := encodedList(t, i, sharedListMin+1)
		wg.Go(func() {
			r := &discoveryv3.DiscoveryRequest{}
			if err := c.Unmarshal(splitEvery(b, 16<<10), r); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := c.lists.maxInDecode.Load(); got > int32(maxListDecodes) || got < 1 {
		t.Errorf("%d long lists decoded at once, want 1 to %d", got, maxListDecodes)
	}
	if n := c.lists.decodes.Load(); n != lists {
		t.Errorf("%d different lists decoded %d times", lists, n)
	}
}

// encodedList is a DiscoveryRequest naming n load assignments, the list
// told apart by seed.
func encodedList(t *testing.T, seed, n int) []byte {
	t.Helper()
	r := &discoveryv3.DiscoveryRequest{TypeUrl: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", VersionInfo: "v1", ResponseNonce: "2"}
	for i := range n {
		r.ResourceNames = append(r.ResourceNames, fmt.Sprintf("outbound|80||app-%d-%d.mesh.internal", seed, i))
	}
	b, err := proto.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitEvery cuts b into buffers of size bytes, as HTTP/2 frames would.
func splitEvery(b []byte, size int) mem.BufferSlice {
	var out mem.BufferSlice
	for off := 0; off < len(b); off += size {
		out = append(out, mem.SliceBuffer(b[off:min(off+size, len(b))]))
	}
	return out
}
