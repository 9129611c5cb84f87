package main

import (
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestParseResponse(t *testing.T) {
	a := &anypb.Any{TypeUrl: "t", Value: []byte("body")}
	b, _ := proto.Marshal(&discoveryv3.DiscoveryResponse{VersionInfo: "v1", TypeUrl: "type", Nonce: "n1", Resources: []*anypb.Any{a, a}})
	r, err := parseResponse(b, false)
	if err != nil || r.version != "v1" || r.typeURL != "type" || r.nonce != "n1" || len(r.resources) != 2 || string(r.resources[1]) != "body" {
		t.Fatalf("sotw: %+v %v", r, err)
	}
	b, _ = proto.Marshal(&discoveryv3.DeltaDiscoveryResponse{TypeUrl: "type", Nonce: "n2",
		Resources: []*discoveryv3.Resource{{Name: "x", Version: "1", Resource: a}}})
	r, err = parseResponse(b, true)
	if err != nil || r.nonce != "n2" || len(r.names) != 1 || string(r.names[0]) != "x" || string(r.resources[0]) != "body" {
		t.Fatalf("delta: %+v %v", r, err)
	}
}
