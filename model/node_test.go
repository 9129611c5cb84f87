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
			Metadata: meta(map[string]any{NodeMetaRole: "gateway", NodeMetaCluster: "cluster-1", NodeMetaBindAddress: "127.0.1.1", NodeMetaGateway: "web/front"}),
			Locality: &corev3.Locality{Region: "eu", Zone: "eu-1", SubZone: "rack-1"},
		},
		want: Proxy{Role: RoleGateway, Cluster: "cluster-1", BindAddress: "127.0.1.1", Gateway: "web/front", Locality: Locality{Region: "eu", Zone: "eu-1", Subzone: "rack-1"}},
	}, {
		name: "every Gateway of the cluster",
		node: &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "gateway", NodeMetaCluster: "cluster-1", NodeMetaGateway: "*"})},
		want: Proxy{Role: RoleGateway, Cluster: "cluster-1", Gateway: AllGateways, Locality: Locality{Region: "us-east", Zone: "us-east-1a"}},
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
	}, {
		name:    "gateway proxy without a Gateway",
		node:    &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "gateway", NodeMetaCluster: "cluster-1"})},
		wantErr: true,
	}, {
		name:    "east-west proxy with a Gateway",
		node:    &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "eastwest", NodeMetaCluster: "cluster-1", NodeMetaGateway: "web/front"})},
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

func TestProxyValidateGateway(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Proxy
		wantErr string // "" for none
	}{
		{"one Gateway", Proxy{Role: RoleGateway, Cluster: "c", Gateway: "web/front"}, ""},
		{"a dotted name", Proxy{Role: RoleGateway, Cluster: "c", Gateway: "web/front.example"}, ""},
		{"every Gateway", Proxy{Role: RoleGateway, Cluster: "c", Gateway: "*"}, ""},
		{"east-west", Proxy{Role: RoleEastWest, Cluster: "c"}, ""},
		{"no Gateway", Proxy{Role: RoleGateway, Cluster: "c"},
			`node metadata causeway.gateway: a gateway proxy names the Gateway it serves, "<namespace>/<name>", or "*" for every Gateway of its cluster`},
		{"no namespace", Proxy{Role: RoleGateway, Cluster: "c", Gateway: "front"},
			`node metadata causeway.gateway: "front": want "<namespace>/<name>" or "*"`},
		{"empty name", Proxy{Role: RoleGateway, Cluster: "c", Gateway: "web/"},
			`node metadata causeway.gateway: "web/": want "<namespace>/<name>" or "*"`},
		{"two slashes", Proxy{Role: RoleGateway, Cluster: "c", Gateway: "web/front/x"},
			`node metadata causeway.gateway: "web/front/x": want "<namespace>/<name>" or "*"`},
		{"upper case", Proxy{Role: RoleGateway, Cluster: "c", Gateway: "Web/front"},
			`node metadata causeway.gateway: "Web/front": want "<namespace>/<name>" or "*"`},
		{"east-west with a Gateway", Proxy{Role: RoleEastWest, Cluster: "c", Gateway: "*"},
			`node metadata causeway.gateway: "*": only a gateway proxy serves a Gateway, not a eastwest proxy`},
		{"no cluster", Proxy{Role: RoleGateway, Gateway: "*"}, "node metadata causeway.cluster: cluster is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Errorf("Validate() = %q, want %q", got, tc.wantErr)
			}
		})
	}
}

// TestClassKeyByGateway: proxies of one Gateway share a class, two Gateways
// (or one and every Gateway) never do.
func TestClassKeyByGateway(t *testing.T) {
	base := Proxy{Role: RoleGateway, Cluster: "c", Locality: Locality{Region: "r"}, BindAddress: "127.0.0.1"}
	a, a2, b, all := base, base, base, base
	a.Gateway, a2.Gateway, b.Gateway, all.Gateway = "web/a", "web/a", "web/b", AllGateways
	if a.ClassKey() != a2.ClassKey() {
		t.Errorf("two proxies of web/a: classes %q and %q", a.ClassKey(), a2.ClassKey())
	}
	for _, other := range []Proxy{b, all} {
		if a.ClassKey() == other.ClassKey() {
			t.Errorf("proxies of %q and %q share class %q", a.Gateway, other.Gateway, a.ClassKey())
		}
	}
}

func TestServesGateway(t *testing.T) {
	for _, tc := range []struct {
		gateway string
		want    bool
	}{{"web/a", true}, {"web/b", false}, {"other/a", false}, {"*", true}, {"", true}} {
		if got := (Proxy{Role: RoleGateway, Gateway: tc.gateway}).ServesGateway("web", "a"); got != tc.want {
			t.Errorf("proxy of %q serves web/a: %v, want %v", tc.gateway, got, tc.want)
		}
	}
}
