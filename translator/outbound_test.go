package translator

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/causeway-dev/causeway/model"
)

func TestServiceCluster(t *testing.T) {
	east := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	eastB := model.Locality{Region: "us-east", Zone: "us-east-1b"}
	svc := model.Service{
		Cluster: "cluster-1", Namespace: "bookinfo", Name: "productpage",
		Ports: []model.ServicePort{{Name: "http", Port: 9080, TargetPort: 8080}},
		Endpoints: []model.Endpoint{
			{Address: "127.0.1.30", Ready: true, Locality: eastB},
			{Address: "127.0.1.31", Ready: true, Locality: east, Ports: []model.EndpointPort{{Name: "http", Port: 18080}}},
			{Address: "127.0.1.32", Ready: false, Locality: east},
		},
	}
	w := model.NewSnapshot(model.World{
		Clusters: []model.Cluster{{Name: "cluster-1", Locality: east}, {Name: "cluster-2"}},
		Services: []model.Service{svc},
	})
	p := model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Locality: eastB, BindAddress: "127.0.1.1"}
	name := "outbound|9080||productpage.bookinfo.svc.cluster.local"

	c, cla := serviceCluster(w, p, w.Service(svc.Key()), 9080)
	wantCluster := &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			ResourceApiVersion:    corev3.ApiVersion_V3,
		}},
		ConnectTimeout: durationpb.New(5e9),
		CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{LocalityConfigSpecifier: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig_{
			LocalityWeightedLbConfig: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig{},
		}},
		UpstreamBindConfig: &corev3.BindConfig{SourceAddress: &corev3.SocketAddress{
			Address: "127.0.1.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 0},
		}},
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			MaxRetries: wrapperspb.UInt32(1024),
		}}},
	}
	if diff := cmp.Diff(wantCluster, c, protocmp.Transform()); diff != "" {
		t.Errorf("cluster (-want +got):\n%s", diff)
	}
	// Unset trafficDistribution semantics: every locality at priority 0,
	// even the proxy's own zone gets no preference.
	wantCLA := &endpointv3.ClusterLoadAssignment{
		ClusterName: name,
		Endpoints: []*endpointv3.LocalityLbEndpoints{
			{
				Locality:            &corev3.Locality{Region: "us-east", Zone: "us-east-1a"},
				LbEndpoints:         []*endpointv3.LbEndpoint{testLbEndpoint("127.0.1.31", 18080, 1, false)},
				LoadBalancingWeight: wrapperspb.UInt32(1),
			},
			{
				Locality:            &corev3.Locality{Region: "us-east", Zone: "us-east-1b"},
				LbEndpoints:         []*endpointv3.LbEndpoint{testLbEndpoint("127.0.1.30", 8080, 1, false)},
				LoadBalancingWeight: wrapperspb.UInt32(1),
			},
		},
		Policy: &endpointv3.ClusterLoadAssignment_Policy{OverprovisioningFactor: wrapperspb.UInt32(140)},
	}
	if diff := cmp.Diff(wantCLA, cla, protocmp.Transform()); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	for _, err := range append(validateDeep(c), validateDeep(cla)...) {
		t.Error(err)
	}

	t.Run("unknown port", func(t *testing.T) {
		if c, cla := serviceCluster(w, p, w.Service(svc.Key()), 1234); c != nil || cla != nil {
			t.Errorf("got %v, %v; want nil, nil", c, cla)
		}
	})
	t.Run("nil service", func(t *testing.T) {
		if c, cla := serviceCluster(w, p, nil, 9080); c != nil || cla != nil {
			t.Errorf("got %v, %v; want nil, nil", c, cla)
		}
	})
	t.Run("service in another cluster", func(t *testing.T) {
		other := p
		other.Cluster = "cluster-2"
		c, cla := serviceCluster(w, other, w.Service(svc.Key()), 9080)
		if c.GetName() != name || cla.GetClusterName() != name || len(cla.GetEndpoints()) != 0 {
			t.Errorf("got cluster %q, assignment %v; want %q with no endpoints", c.GetName(), cla, name)
		}
	})
}
