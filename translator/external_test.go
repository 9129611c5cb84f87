package translator

import (
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

func externalService(name string, labels map[string]string, endpoints ...v1alpha1.ExternalEndpoint) *model.ExternalService {
	return &model.ExternalService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: name, Labels: labels},
		Spec: v1alpha1.ExternalServiceSpec{
			Hosts:     []string{name + ".example.com"},
			Ports:     []v1alpha1.ExternalServicePort{{Number: 9080, Name: "http", Protocol: "HTTP"}},
			Endpoints: endpoints,
		},
	}
}

func TestExternalAddress(t *testing.T) {
	for addr, want := range map[string][2]bool{
		"127.0.3.10":       {true, false},
		"::1":              {true, false},
		"api.example.com":  {false, true},
		"localhost":        {false, true},
		"Bad_Name.example": {false, false},
		"*.example.com":    {false, false},
		"":                 {false, false},
	} {
		ip, dns := externalAddress(addr)
		if got := [2]bool{ip, dns}; got != want {
			t.Errorf("externalAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestExternalServiceClusters(t *testing.T) {
	east := &v1alpha1.Locality{Region: "us-east", Zone: "us-east-1a"}
	w := model.NewSnapshot(model.World{
		Clusters: []model.Cluster{{Name: "cluster-1", Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}}},
		ExternalServices: []*model.ExternalService{
			externalService("ips", nil,
				v1alpha1.ExternalEndpoint{Address: "127.0.3.11", Locality: east},
				v1alpha1.ExternalEndpoint{Address: "127.0.3.10", Ports: map[string]int32{"http": 8080, "nope": 1}},
				v1alpha1.ExternalEndpoint{Address: "not_an_address"}),
			externalService("mixed", nil,
				v1alpha1.ExternalEndpoint{Address: "api.example.com"},
				v1alpha1.ExternalEndpoint{Address: "127.0.3.20"}),
		},
	})
	p := model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}}
	got := Translate(w, p, testCredentials)
	byName := map[string]*clusterv3.Cluster{}
	for _, c := range got.Clusters {
		byName[c.GetName()] = c
	}
	ips := byName["outbound|9080||ips.example.com"]
	if ips.GetType() != clusterv3.Cluster_EDS || len(ips.GetTransportSocketMatches()) != 0 {
		t.Errorf("IP-only ExternalService: want a plain EDS cluster, got %v", ips)
	}
	if len(got.Endpoints) != 1 || got.Endpoints[0].GetClusterName() != "outbound|9080||ips.example.com" {
		t.Fatalf("want one CLA (for the EDS cluster), got %v", got.Endpoints)
	}
	// Two localities (none, and us-east), flat priority, ports from the endpoint's map.
	if diff := cmp.Diff([]string{"127.0.3.10:8080", "127.0.3.11:9080"}, claAddrs(got.Endpoints[0])); diff != "" {
		t.Errorf("IP endpoints (-want +got):\n%s", diff)
	}
	mixed := byName["outbound|9080||mixed.example.com"]
	if mixed.GetType() != clusterv3.Cluster_STRICT_DNS || mixed.GetDnsLookupFamily() != clusterv3.Cluster_V4_ONLY || mixed.GetEdsClusterConfig() != nil {
		t.Errorf("ExternalService with a DNS name: want STRICT_DNS V4_ONLY without EDS, got %v", mixed)
	}
	if diff := cmp.Diff([]string{"127.0.3.20:9080", "api.example.com:9080"}, claAddrs(mixed.GetLoadAssignment())); diff != "" {
		t.Errorf("inline endpoints (-want +got):\n%s", diff)
	}
	var fields []string
	for _, d := range got.Diagnostics {
		fields = append(fields, d.Object+" "+d.Field)
	}
	want := []string{
		"ExternalService bookinfo/ips spec.endpoints[1].ports.nope",
		"ExternalService bookinfo/ips spec.endpoints[2].address",
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestExternalServiceInVirtualDestination(t *testing.T) {
	eu := &v1alpha1.Locality{Region: "eu-west", Zone: "eu-west-1a"}
	w := model.NewSnapshot(model.World{
		Clusters: []model.Cluster{
			{Name: "cluster-1", Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}},
			{Name: "cluster-2", EastWestGateways: []model.GatewayAddress{{Address: "127.0.2.100", Port: 15443}}},
		},
		Services: []model.Service{{Cluster: "cluster-1", Namespace: "bookinfo", Name: "reviews", Labels: map[string]string{"app": "reviews"},
			Ports: []model.ServicePort{{Name: "http", Port: 9080}}, Endpoints: []model.Endpoint{{Address: "127.0.1.10", Ready: true}}}},
		ExternalServices: []*model.ExternalService{
			externalService("legacy", map[string]string{"app": "reviews"},
				v1alpha1.ExternalEndpoint{Address: "127.0.3.10", Locality: eu, Labels: map[string]string{"version": "v1"}},
				v1alpha1.ExternalEndpoint{Address: "127.0.3.11"},
				v1alpha1.ExternalEndpoint{Address: "legacy.example.net"}),
			externalService("other", map[string]string{"app": "other"}, v1alpha1.ExternalEndpoint{Address: "127.0.3.99"}),
		},
		VirtualDestinations: []model.VirtualDestination{{
			Namespace: "bookinfo", Name: "reviews",
			Hosts: []string{"reviews.mesh.internal.com"}, Ports: []model.VirtualDestinationPort{{Number: 9080}},
			Services:            []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
			ExternalServices:    []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
			TrafficDistribution: model.TrafficDistributionPreferClose,
			Subsets:             []model.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}},
		}},
	})
	p := model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}}
	got := Translate(w, p, testCredentials)
	type loc struct {
		Region   string
		Priority uint32
		Addrs    []string
	}
	levels := map[string][]loc{}
	for _, cla := range got.Endpoints {
		for _, l := range cla.GetEndpoints() {
			var addrs []string
			for _, e := range l.GetLbEndpoints() {
				sa := e.GetEndpoint().GetAddress().GetSocketAddress()
				addrs = append(addrs, sa.GetAddress())
				if e.GetMetadata() != nil {
					t.Errorf("%s: endpoint %s has transport socket metadata: external endpoints are plain", cla.GetClusterName(), sa.GetAddress())
				}
			}
			levels[cla.GetClusterName()] = append(levels[cla.GetClusterName()], loc{l.GetLocality().GetRegion(), l.GetPriority(), addrs})
		}
	}
	want := map[string][]loc{
		"outbound|9080||reviews.mesh.internal.com": {
			{"us-east", 0, []string{"127.0.1.10"}},
			{"", 1, []string{"127.0.3.11"}}, // no locality: another region
			{"eu-west", 1, []string{"127.0.3.10"}},
		},
		"outbound|9080|v1|reviews.mesh.internal.com": {{"eu-west", 0, []string{"127.0.3.10"}}},
		// legacy.example.com has a DNS-named endpoint: STRICT_DNS, inline, no CLA.
		"outbound|9080||other.example.com": {{"", 0, []string{"127.0.3.99"}}},
	}
	if diff := cmp.Diff(want, levels); diff != "" {
		t.Errorf("assignments (-want +got):\n%s", diff)
	}
	wantDiag := Diagnostic{Object: "VirtualDestination bookinfo/reviews", Field: "spec.externalServices",
		Message: `ExternalService bookinfo/legacy endpoint "legacy.example.net" is a DNS name, which a VirtualDestination cannot use (its endpoints go out over EDS as addresses); skipped. Route to the ExternalService's host to use it`}
	if diff := cmp.Diff([]Diagnostic{wantDiag}, got.Diagnostics); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}

	// East-west gateways never serve ExternalService endpoints.
	ew := Translate(w, model.Proxy{Role: model.RoleEastWest, Cluster: "cluster-1"}, testCredentials)
	for _, cla := range ew.Endpoints {
		for _, a := range claAddrs(cla) {
			if a != "127.0.1.10:9080" {
				t.Errorf("east-west %s has endpoint %s", cla.GetClusterName(), a)
			}
		}
	}
}
