package translator

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/causeway-dev/causeway/model"
)

func testLbEndpoint(addr string, port, weight uint32, mtls bool) *endpointv3.LbEndpoint {
	ep := &endpointv3.LbEndpoint{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
				Address: addr, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
			}}},
		}},
		LoadBalancingWeight: wrapperspb.UInt32(weight),
	}
	if mtls {
		ep.Metadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
			"envoy.transport_socket_match": {Fields: map[string]*structpb.Value{"causeway.dev/tls": structpb.NewStringValue("mtls")}},
		}}
	}
	return ep
}

// TestMixedLocalityWeights: a local endpoint and two remote clusters with 2
// and 3 gateways in one locality. Every real endpoint must get the same
// share: scale lcm(2,3)=6; local 6; cluster-2 (2 endpoints) 2*6/2=6 per
// gateway; cluster-3 (1 endpoint) 1*6/3=2 per gateway.
func TestMixedLocalityWeights(t *testing.T) {
	loc := model.Locality{Region: "r", Zone: "z"}
	set := newEndpointSet()
	gw2 := []model.GatewayAddress{{Address: "127.0.2.101", Port: 15443}, {Address: "127.0.2.100", Port: 15443}}
	gw3 := []model.GatewayAddress{{Address: "127.0.3.100", Port: 15443}, {Address: "127.0.3.101", Port: 15443}, {Address: "127.0.3.102", Port: 15443}}
	set.addLocal(loc, false, "127.0.1.10", 9080)
	set.addLocal(loc, false, "127.0.1.10", 9080) // the same pod selected twice counts once
	set.addRemote(loc, false, "cluster-2", gw2)
	set.addRemote(loc, false, "cluster-2", gw2)
	set.addRemote(loc, false, "cluster-3", gw3)
	want := &endpointv3.ClusterLoadAssignment{
		ClusterName: "c",
		Endpoints: []*endpointv3.LocalityLbEndpoints{{
			Locality: &corev3.Locality{Region: "r", Zone: "z"},
			LbEndpoints: []*endpointv3.LbEndpoint{
				testLbEndpoint("127.0.1.10", 9080, 6, false),
				testLbEndpoint("127.0.2.100", 15443, 6, true),
				testLbEndpoint("127.0.2.101", 15443, 6, true),
				testLbEndpoint("127.0.3.100", 15443, 2, true),
				testLbEndpoint("127.0.3.101", 15443, 2, true),
				testLbEndpoint("127.0.3.102", 15443, 2, true),
			},
			LoadBalancingWeight: wrapperspb.UInt32(4),
		}},
		Policy: &endpointv3.ClusterLoadAssignment_Policy{OverprovisioningFactor: wrapperspb.UInt32(140)},
	}
	got := set.assignment("c", flatPriority)
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("assignment (-want +got):\n%s", diff)
	}
}

func TestCompareAddr(t *testing.T) {
	ordered := []string{"127.0.1.9", "127.0.1.10", "127.0.1.100", "127.0.2.1", "::1", "a.example", "b.example"}
	for i := range ordered {
		for j := range ordered {
			got := compareAddr(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if sign(got) != want {
				t.Errorf("compareAddr(%q, %q) = %d, want sign %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// TestChecksCatchProblems proves the golden harness' extra checks can fail.
func TestChecksCatchProblems(t *testing.T) {
	gap := []*endpointv3.LocalityLbEndpoints{{Priority: 0}, {Priority: 2}}
	if checkPriorities(gap) == nil {
		t.Error("checkPriorities accepted priorities 0, 2")
	}
	noZero := []*endpointv3.LocalityLbEndpoints{{Priority: 1}}
	if checkPriorities(noZero) == nil {
		t.Error("checkPriorities accepted priorities starting at 1")
	}
	unordered := []*endpointv3.LocalityLbEndpoints{{Priority: 1}, {Priority: 0}}
	if checkPriorities(unordered) == nil {
		t.Error("checkPriorities accepted priorities out of order")
	}
	// ValidateAll alone does not look inside typed_config: a tcp_proxy
	// without stat_prefix must still be caught.
	l := eastWestChain("sni", "c", "td")
	l.Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: typedAny(&tcpproxyv3.TcpProxy{
		ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "c"},
	})}
	if err := l.ValidateAll(); err != nil {
		t.Fatalf("filter chain itself should be valid: %v", err)
	}
	if errs := validateDeep(l); len(errs) == 0 {
		t.Error("validateDeep accepted a tcp_proxy without stat_prefix")
	}
	if refs := referencedClusters(l); len(refs) != 1 || refs[0] != "c" {
		t.Errorf("referencedClusters = %v, want [c]", refs)
	}
}
