package model

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestProxyFromNode(t *testing.T) {
	world := NewSnapshot(World{Clusters: []Cluster{{Name: "cluster-1", Locality: Locality{Region: "us-east", Zone: "us-east-1a"}}}})
	meta := func(kv map[string]any) *structpb.Struct {
		s, err := structpb.NewStruct(kv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		node    *corev3.Node
		want    Proxy
		wantErr bool
	}{{
		name: "locality from the node",
		node: &corev3.Node{
			Metadata: meta(map[string]any{NodeMetaRole: "gateway", NodeMetaCluster: "cluster-1", NodeMetaBindAddress: "127.0.1.1"}),
			Locality: &corev3.Locality{Region: "eu", Zone: "eu-1", SubZone: "rack-1"},
		},
		want: Proxy{Role: RoleGateway, Cluster: "cluster-1", BindAddress: "127.0.1.1", Locality: Locality{Region: "eu", Zone: "eu-1", Subzone: "rack-1"}},
	}, {
		name: "locality defaults to the cluster's",
		node: &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "eastwest", NodeMetaCluster: "cluster-1"})},
		want: Proxy{Role: RoleEastWest, Cluster: "cluster-1", Locality: Locality{Region: "us-east", Zone: "us-east-1a"}},
	}, {
		name:    "no metadata",
		node:    &corev3.Node{Id: "x"},
		wantErr: true,
	}, {
		name:    "unknown role",
		node:    &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "sidecar", NodeMetaCluster: "cluster-1"})},
		wantErr: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ProxyFromNode(tc.node, world)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("proxy (-want +got):\n%s", diff)
			}
		})
	}
}
