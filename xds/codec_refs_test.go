package xds

import (
	"bytes"
	"math/rand/v2"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// randomAny is an Any of the route type with a value of n random bytes
// (n 0: no value).
func randomAny(rng *rand.Rand, n int) *anypb.Any {
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(rng.IntN(256))
	}
	if n == 0 {
		v = nil
	}
	return &anypb.Any{TypeUrl: "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", Value: v}
}

// TestResponsesByReference: a large response the codec writes by reference
// decodes to exactly the response, sotw and delta, and its values are the
// resources' own buffers, not copies.
func TestResponsesByReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 6))
	sizes := []int{0, 1, 127, 128, 300, unpooledSize + 5}
	var anys []*anypb.Any
	for _, n := range sizes {
		anys = append(anys, randomAny(rng, n))
	}
	cp := &corev3.ControlPlane{Identifier: "causeway"}
	sotw := &discoveryv3.DiscoveryResponse{VersionInfo: "v7", Resources: anys, TypeUrl: anys[0].TypeUrl, Nonce: "42", ControlPlane: cp}
	var resources []*discoveryv3.Resource
	for i, a := range anys {
		resources = append(resources, &discoveryv3.Resource{Name: "gateway_" + string(rune('a'+i)), Version: "h" + string(rune('0'+i)), Resource: a,
			Aliases: []string{"x"}, Ttl: durationpb.New(30e9)})
	}
	resources = append(resources, &discoveryv3.Resource{Name: "no-resource", Version: "1"})
	delta := &discoveryv3.DeltaDiscoveryResponse{SystemVersionInfo: "v7", Resources: resources, TypeUrl: anys[0].TypeUrl, Nonce: "43",
		RemovedResources: []string{"gone"}, ControlPlane: cp}

	codec := newRequestCodec()
	for _, tc := range []struct {
		name string
		msg  proto.Message
		want proto.Message
	}{
		{"sotw", sotw, &discoveryv3.DiscoveryResponse{}},
		{"delta", delta, &discoveryv3.DeltaDiscoveryResponse{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := codec.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) < len(anys) {
				t.Fatalf("encoded as %d buffers: not by reference", len(out))
			}
			if err := proto.Unmarshal(out.Materialize(), tc.want); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !proto.Equal(tc.msg, tc.want) {
				// Without the values: a diff of megabytes says nothing.
				strip := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == `["value"]` }, cmp.Ignore())
				t.Fatalf("decoded response differs (-sent +decoded, values left out):\n%s", cmp.Diff(tc.msg, tc.want, protocmp.Transform(), strip))
			}
			if out.Len() != proto.Size(tc.msg) {
				t.Errorf("encoded %d bytes, proto.Size %d", out.Len(), proto.Size(tc.msg))
			}
			large := anys[len(anys)-1].Value
			shared := false
			for _, b := range out {
				if d := b.ReadOnlyData(); len(d) == len(large) && &d[0] == &large[0] {
					shared = true
				}
			}
			if !shared {
				t.Error("the large value was copied, not referenced")
			}
		})
	}

	// Small responses, and Anys with unknown fields, take protobuf's path.
	small := &discoveryv3.DiscoveryResponse{VersionInfo: "1", Resources: anys[:3]}
	if out, err := codec.Marshal(small); err != nil || len(out) != 1 {
		t.Errorf("small response: %d buffers, %v", len(out), err)
	}
	odd := randomAny(rng, unpooledSize)
	odd.ProtoReflect().SetUnknown([]byte{0x18, 0x01}) // field 3, varint 1
	out, err := codec.Marshal(&discoveryv3.DiscoveryResponse{Resources: []*anypb.Any{odd}})
	if err != nil || len(out) != 1 {
		t.Fatalf("Any with unknown fields: %d buffers, %v", len(out), err)
	}
	want, _ := proto.Marshal(&discoveryv3.DiscoveryResponse{Resources: []*anypb.Any{odd}})
	if !bytes.Equal(out.Materialize(), want) {
		t.Error("Any with unknown fields not encoded as protobuf does")
	}
}
