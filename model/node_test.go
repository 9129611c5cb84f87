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
		name: "client proxy: namespace and DNS port",
		node: &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "client", NodeMetaCluster: "cluster-1", NodeMetaBindAddress: "10.0.0.5",
			NodeMetaNamespace: "shop", NodeMetaDNSPort: 53})},
		want: Proxy{Role: RoleClient, Cluster: "cluster-1", BindAddress: "10.0.0.5", Namespace: "shop", DNSPort: 53, Locality: Locality{Region: "us-east", Zone: "us-east-1a"}},
	}, {
		name: "client proxy: DNS port as a string",
		node: &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "client", NodeMetaCluster: "cluster-1", NodeMetaBindAddress: "10.0.0.5", NodeMetaDNSPort: "5353"})},
		want: Proxy{Role: RoleClient, Cluster: "cluster-1", BindAddress: "10.0.0.5", DNSPort: 5353, Locality: Locality{Region: "us-east", Zone: "us-east-1a"}},
	}, {
		name: "client proxy: DNS port defaults",
		node: &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "client", NodeMetaCluster: "cluster-1", NodeMetaBindAddress: "fd00::5"})},
		want: Proxy{Role: RoleClient, Cluster: "cluster-1", BindAddress: "fd00::5", DNSPort: DefaultDNSPort, Locality: Locality{Region: "us-east", Zone: "us-east-1a"}},
	}, {
		name:    "client proxy: DNS port out of range",
		node:    &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "client", NodeMetaCluster: "cluster-1", NodeMetaBindAddress: "10.0.0.5", NodeMetaDNSPort: 70000})},
		wantErr: true,
	}, {
		name:    "client proxy: DNS port not a number",
		node:    &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "client", NodeMetaCluster: "cluster-1", NodeMetaBindAddress: "10.0.0.5", NodeMetaDNSPort: "dns"})},
		wantErr: true,
	}, {
		name:    "gateway proxy with a DNS port",
		node:    &corev3.Node{Metadata: meta(map[string]any{NodeMetaRole: "gateway", NodeMetaCluster: "cluster-1", NodeMetaGateway: "*", NodeMetaDNSPort: 53})},
		wantErr: true,
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

func TestProxyValidateClient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Proxy
		wantErr string // "" for none
	}{
		{"client", Proxy{Role: RoleClient, Cluster: "c", BindAddress: "10.0.0.5"}, ""},
		{"client of a namespace on IPv6", Proxy{Role: RoleClient, Cluster: "c", BindAddress: "fd00::5", Namespace: "shop", DNSPort: 53}, ""},
		{"no bind address", Proxy{Role: RoleClient, Cluster: "c"},
			"node metadata causeway.bind_address: a client proxy needs the address its listeners bind to and its DNS answers"},
		{"unspecified bind address", Proxy{Role: RoleClient, Cluster: "c", BindAddress: "0.0.0.0"},
			`node metadata causeway.bind_address: "0.0.0.0": a client proxy needs an IP address clients can reach (not a name, 0.0.0.0 or ::)`},
		{"bind address a name", Proxy{Role: RoleClient, Cluster: "c", BindAddress: "node-1"},
			`node metadata causeway.bind_address: "node-1": a client proxy needs an IP address clients can reach (not a name, 0.0.0.0 or ::)`},
		{"bad namespace", Proxy{Role: RoleClient, Cluster: "c", BindAddress: "10.0.0.5", Namespace: "Shop_1"},
			`node metadata causeway.namespace: "Shop_1" is not a namespace name`},
		{"DNS port out of range", Proxy{Role: RoleClient, Cluster: "c", BindAddress: "10.0.0.5", DNSPort: 70000},
			"node metadata causeway.dns_port: port 70000 is out of range 1-65535"},
		{"client with a Gateway", Proxy{Role: RoleClient, Cluster: "c", BindAddress: "10.0.0.5", Gateway: "web/a"},
			`node metadata causeway.gateway: "web/a": only a gateway proxy serves a Gateway, not a client proxy`},
		{"no cluster", Proxy{Role: RoleClient, BindAddress: "10.0.0.5"}, "node metadata causeway.cluster: cluster is required"},
		{"east-west with a namespace", Proxy{Role: RoleEastWest, Cluster: "c", Namespace: "shop"},
			`node metadata causeway.namespace: "shop": only a client proxy serves a namespace, not a eastwest proxy`},
		{"gateway with a DNS port", Proxy{Role: RoleGateway, Cluster: "c", Gateway: "*", DNSPort: 53},
			"node metadata causeway.dns_port: 53: only a client proxy answers DNS, not a gateway proxy"},
		{"unknown role", Proxy{Role: "sidecar", Cluster: "c"},
			`node metadata causeway.role: role "sidecar" is not "gateway", "eastwest" or "client"`},
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

// TestClassKeyClient: client proxies of other namespaces or DNS ports are
// other classes; a zero DNS port is the default one; the other roles' keys
// keep their form.
func TestClassKeyClient(t *testing.T) {
	base := Proxy{Role: RoleClient, Cluster: "c", Locality: Locality{Region: "r"}, BindAddress: "10.0.0.5", Namespace: "shop"}
	otherNS, otherPort, defaulted, explicit := base, base, base, base
	otherNS.Namespace, otherPort.DNSPort, explicit.DNSPort = "web", 53, DefaultDNSPort
	for _, other := range []Proxy{otherNS, otherPort} {
		if base.ClassKey() == other.ClassKey() {
			t.Errorf("client proxies %+v and %+v share class %q", base, other, base.ClassKey())
		}
	}
	if defaulted.ClassKey() != explicit.ClassKey() {
		t.Errorf("default and explicit DNS port %d: classes %q and %q", DefaultDNSPort, defaulted.ClassKey(), explicit.ClassKey())
	}
	for _, tc := range []struct {
		p    Proxy
		want string
	}{
		{Proxy{Role: RoleGateway, Cluster: "c", Gateway: "web/a", BindAddress: "127.0.0.1"}, "gateway~c~web/a~//~127.0.0.1"},
		{Proxy{Role: RoleEastWest, Cluster: "c"}, "eastwest~c~~//~"},
		{base, "client~c~~r//~10.0.0.5~shop~15053"},
	} {
		if got := tc.p.ClassKey(); got != tc.want {
			t.Errorf("ClassKey(%+v) = %q, want %q", tc.p, got, tc.want)
		}
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
