package xds

import (
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

func edsCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ResourceApiVersion:    corev3.ApiVersion_V3,
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		}},
	}
}

func cla(name string, priorities ...uint32) *endpointv3.ClusterLoadAssignment {
	out := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	for _, p := range priorities {
		out.Endpoints = append(out.Endpoints, &endpointv3.LocalityLbEndpoints{
			Priority: p,
			Locality: &corev3.Locality{Region: "r", Zone: string(rune('a' + p))},
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: "127.0.1.10", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 9080},
				}}},
			}}}},
		})
	}
	return out
}

func hcmListener(t *testing.T, name string, hcm *hcmv3.HttpConnectionManager) *listenerv3.Listener {
	t.Helper()
	a, err := anypb.New(hcm)
	if err != nil {
		t.Fatal(err)
	}
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Address: "127.0.1.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 8080},
		}}},
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: a},
		}}}},
	}
}

func goodHCM(route string) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		StatPrefix: route,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			RouteConfigName: route,
			ConfigSource: &corev3.ConfigSource{
				ResourceApiVersion:    corev3.ApiVersion_V3,
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
		}},
	}
}

func snapshotOf(t *testing.T, res map[resource.Type][]types.Resource) *cache.Snapshot {
	t.Helper()
	snap, err := cache.NewSnapshot("1", res)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestValidateAcceptsGoodSnapshot(t *testing.T) {
	snap := snapshotOf(t, map[resource.Type][]types.Resource{
		resource.ClusterType:  {edsCluster("c1")},
		resource.EndpointType: {cla("c1", 0, 1, 1, 2)},
		resource.ListenerType: {hcmListener(t, "gateway_8080", goodHCM("gateway_8080"))},
		resource.RouteType:    {&routev3.RouteConfiguration{Name: "gateway_8080"}},
	})
	if err := validateSnapshot(snap); err != nil {
		t.Fatalf("good snapshot rejected: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	missingStatPrefix := goodHCM("gateway_8080")
	missingStatPrefix.StatPrefix = "" // PGV: stat_prefix min_len 1, only visible inside the Any
	unknownAny := hcmListener(t, "gateway_9090", goodHCM("gateway_8080"))
	unknownAny.FilterChains[0].Filters[0].GetTypedConfig().TypeUrl = "type.googleapis.com/no.such.Type"

	snap := snapshotOf(t, map[resource.Type][]types.Resource{
		resource.ClusterType:  {edsCluster("c1"), edsCluster("c2")},
		resource.EndpointType: {cla("c1", 0, 2), cla("c2", 0, 1)},
		resource.ListenerType: {hcmListener(t, "gateway_8080", missingStatPrefix), unknownAny},
		resource.RouteType:    {&routev3.RouteConfiguration{Name: "gateway_8080"}},
	})
	err := validateSnapshot(snap)
	t.Logf("validation error:\n%v", err)
	if err == nil {
		t.Fatal("snapshot with a priority gap and invalid typed_config accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`ClusterLoadAssignment "c1": endpoint priorities are not contiguous from 0: priority 1 is missing`,
		`Listener "gateway_8080": filter_chains[0].filters[0].typed_config (type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager)`,
		"StatPrefix",
		`Listener "gateway_9090": filter_chains[0].filters[0].typed_config (type.googleapis.com/no.such.Type)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, `"c2"`) {
		t.Errorf("valid CLA c2 reported:\n%s", msg)
	}
}

func TestValidateRejectsTopLevelAndReferences(t *testing.T) {
	snap := snapshotOf(t, map[resource.Type][]types.Resource{
		// c1 references EDS resource "c1", which is missing.
		resource.ClusterType:  {edsCluster("c1")},
		resource.EndpointType: {cla("other", 0)},
	})
	err := validateSnapshot(snap)
	if err == nil || !strings.Contains(err.Error(), "snapshot inconsistent") {
		t.Fatalf("dangling EDS reference not reported: %v", err)
	}
	bad := cla("c1", 0)
	bad.Endpoints[0].LbEndpoints[0].GetEndpoint().Address = &corev3.Address{} // address is required
	snap = snapshotOf(t, map[resource.Type][]types.Resource{
		resource.ClusterType:  {edsCluster("c1")},
		resource.EndpointType: {bad},
	})
	if err := validateSnapshot(snap); err == nil || !strings.Contains(err.Error(), `ClusterLoadAssignment "c1"`) {
		t.Fatalf("invalid address not reported with its resource: %v", err)
	}
}

func TestMayContainAny(t *testing.T) {
	for _, tc := range []struct {
		md   protoreflect.MessageDescriptor
		want bool
	}{
		{(&anypb.Any{}).ProtoReflect().Descriptor(), true},
		{(&listenerv3.Listener{}).ProtoReflect().Descriptor(), true},
		{(&corev3.Metadata{}).ProtoReflect().Descriptor(), true}, // map<string, Any>
		{(&structpb.Value{}).ProtoReflect().Descriptor(), false}, // recursive, no Any
		{(&corev3.SocketAddress{}).ProtoReflect().Descriptor(), false},
	} {
		// Twice: computed, then cached.
		for range 2 {
			if got := mayContainAny(tc.md); got != tc.want {
				t.Errorf("mayContainAny(%s) = %v, want %v", tc.md.FullName(), got, tc.want)
			}
		}
	}
}

func TestValidateAnyInMapField(t *testing.T) {
	bad := goodHCM("r")
	bad.StatPrefix = ""
	a, err := anypb.New(bad)
	if err != nil {
		t.Fatal(err)
	}
	c := edsCluster("c1")
	c.Metadata = &corev3.Metadata{TypedFilterMetadata: map[string]*anypb.Any{"k": a}}
	err = validateMessage(c)
	if err == nil || !strings.Contains(err.Error(), `metadata.typed_filter_metadata["k"]`) {
		t.Fatalf("invalid Any in a map field not reported: %v", err)
	}
}
