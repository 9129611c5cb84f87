package translator

import (
	"fmt"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

// subsetWorld has reviews v1+v2 in cluster-1 and v1 in cluster-2, and a
// VirtualDestination with subsets by version and by cluster.
func subsetWorld() *model.Snapshot {
	east := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	west := model.Locality{Region: "us-west", Zone: "us-west-1a"}
	return model.NewSnapshot(model.World{
		Clusters: []model.Cluster{
			{Name: "cluster-1", Locality: east, EastWestGateways: []model.GatewayAddress{{Address: "127.0.1.100", Port: 15443}}},
			{Name: "cluster-2", Locality: west, EastWestGateways: []model.GatewayAddress{{Address: "127.0.2.100", Port: 15443}}},
		},
		Services: []model.Service{
			{Cluster: "cluster-1", Namespace: "bookinfo", Name: "reviews", Labels: map[string]string{"app": "reviews"},
				Ports: []model.ServicePort{{Name: "http", Port: 9080}},
				Endpoints: []model.Endpoint{
					{Address: "127.0.1.10", Ready: true, Labels: map[string]string{"version": "v1"}},
					{Address: "127.0.1.11", Ready: true, Labels: map[string]string{"version": "v2"}},
				}},
			{Cluster: "cluster-2", Namespace: "bookinfo", Name: "reviews", Labels: map[string]string{"app": "reviews", "version": "v1"},
				Ports:     []model.ServicePort{{Name: "http", Port: 9080}},
				Endpoints: []model.Endpoint{{Address: "127.0.2.10", Ready: true}}},
		},
		VirtualDestinations: []model.VirtualDestination{{
			Namespace: "bookinfo", Name: "reviews",
			Hosts:    []string{"reviews.mesh.internal.com"},
			Ports:    []model.VirtualDestinationPort{{Number: 9080}},
			Services: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
			Subsets: []model.Subset{
				{Name: "v1", Labels: map[string]string{"version": "v1"}},
				{Name: "v2", Labels: map[string]string{"version": "v2"}},
				{Name: "west", Labels: map[string]string{model.SubsetClusterLabel: "cluster-2"}},
				{Name: "Bad_Name"},
				{Name: "v1", Labels: map[string]string{"version": "v9"}},
			},
		}},
	})
}

// claAddrs summarises an assignment as "address:port×weight" per locality.
func claAddrs(cla *endpointv3.ClusterLoadAssignment) []string {
	var out []string
	for _, l := range cla.GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			sa := e.GetEndpoint().GetAddress().GetSocketAddress()
			out = append(out, fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()))
		}
	}
	return out
}

// upstreamSNI is the SNI of a cluster's mTLS transport socket match.
func upstreamSNI(t *testing.T, c *clusterv3.Cluster) string {
	t.Helper()
	for _, m := range c.GetTransportSocketMatches() {
		ctx := &tlsv3.UpstreamTlsContext{}
		if err := m.GetTransportSocket().GetTypedConfig().UnmarshalTo(ctx); err != nil {
			t.Fatal(err)
		}
		return ctx.GetSni()
	}
	return ""
}

func TestSubsetClustersGateway(t *testing.T) {
	w := subsetWorld()
	p := model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}}
	got := Translate(w, p, testCredentials)
	want := map[string][]string{
		"outbound|9080||reviews.mesh.internal.com":     {"127.0.1.10:9080", "127.0.1.11:9080", "127.0.2.100:15443"},
		"outbound|9080|v1|reviews.mesh.internal.com":   {"127.0.1.10:9080", "127.0.2.100:15443"},
		"outbound|9080|v2|reviews.mesh.internal.com":   {"127.0.1.11:9080"},
		"outbound|9080|west|reviews.mesh.internal.com": {"127.0.2.100:15443"},
	}
	gotEPs := map[string][]string{}
	for _, cla := range got.Endpoints {
		gotEPs[cla.GetClusterName()] = claAddrs(cla)
	}
	if diff := cmp.Diff(want, gotEPs); diff != "" {
		t.Errorf("endpoints by cluster (-want +got):\n%s", diff)
	}
	snis := map[string]string{}
	for _, c := range got.Clusters {
		snis[c.GetName()] = upstreamSNI(t, c)
	}
	if got, want := snis["outbound|9080|v1|reviews.mesh.internal.com"], "outbound_.9080_.v1_.reviews.mesh.internal.com"; got != want {
		t.Errorf("v1 SNI %q, want %q", got, want)
	}
	wantDiags := []Diagnostic{
		{Object: "VirtualDestination bookinfo/reviews", Field: "spec.subsets[3].name",
			Message: `subset name "Bad_Name" is not a DNS label (lower-case letters, digits and '-', at most 63); subset ignored`},
		{Object: "VirtualDestination bookinfo/reviews", Field: "spec.subsets[4].name", Message: `subset "v1" is declared twice; the first one is used`},
	}
	if diff := cmp.Diff(wantDiags, got.Diagnostics); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestSubsetChainsEastWest(t *testing.T) {
	w := subsetWorld()
	p := model.Proxy{Role: model.RoleEastWest, Cluster: "cluster-2", Locality: model.Locality{Region: "us-west", Zone: "us-west-1a"}, BindAddress: "127.0.2.100"}
	got := Translate(w, p, testCredentials)
	var chains []string
	for _, l := range got.Listeners {
		for _, fc := range l.GetFilterChains() {
			chains = append(chains, fc.GetFilterChainMatch().GetServerNames()...)
		}
	}
	wantChains := []string{
		"outbound_.9080_._.reviews.mesh.internal.com",
		"outbound_.9080_.v1_.reviews.mesh.internal.com",
		"outbound_.9080_.v2_.reviews.mesh.internal.com",
		"outbound_.9080_.west_.reviews.mesh.internal.com",
	}
	if diff := cmp.Diff(wantChains, chains); diff != "" {
		t.Errorf("SNI filter chains (-want +got):\n%s", diff)
	}
	gotEPs := map[string][]string{}
	for _, cla := range got.Endpoints {
		gotEPs[cla.GetClusterName()] = claAddrs(cla)
	}
	want := map[string][]string{
		"inbound|9080||reviews.mesh.internal.com":     {"127.0.2.10:9080"},
		"inbound|9080|v1|reviews.mesh.internal.com":   {"127.0.2.10:9080"}, // version from the Service's labels
		"inbound|9080|v2|reviews.mesh.internal.com":   nil,
		"inbound|9080|west|reviews.mesh.internal.com": {"127.0.2.10:9080"},
	}
	if diff := cmp.Diff(want, gotEPs); diff != "" {
		t.Errorf("inbound endpoints (-want +got):\n%s", diff)
	}
}

func TestResolveSubsetRef(t *testing.T) {
	w, claims, _ := scopeWorld(subsetWorld())
	br := backendResolver{w: w, cluster: "cluster-1", claims: claims}
	route := &model.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "r"}}
	group := gwv1.Group(model.APIGroup)
	hostname, vdKind, svcKind := gwv1.Kind(kindHostname), gwv1.Kind(kindVirtualDestination), gwv1.Kind(kindService)
	port := gwv1.PortNumber(9080)
	subset := func(names ...string) []gwv1.HTTPRouteFilter {
		var out []gwv1.HTTPRouteFilter
		for _, n := range names {
			out = append(out, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterExtensionRef, ExtensionRef: &gwv1.LocalObjectReference{
				Group: gwv1.Group(model.APIGroup), Kind: kindSubset, Name: gwv1.ObjectName(n)}})
		}
		return out
	}
	ref := func(kind *gwv1.Kind, grp *gwv1.Group, name string, filters []gwv1.HTTPRouteFilter) gwv1.HTTPBackendRef {
		return gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Group: grp, Kind: kind, Name: gwv1.ObjectName(name), Port: &port}}, Filters: filters}
	}
	for _, tc := range []struct {
		name    string
		ref     gwv1.HTTPBackendRef
		cluster string
		errMsg  string
	}{
		{"hostname with subset", ref(&hostname, &group, "reviews.mesh.internal.com", subset("v2")), "outbound|9080|v2|reviews.mesh.internal.com", ""},
		{"virtual destination with subset", ref(&vdKind, &group, "reviews", subset("west")), "outbound|9080|west|reviews.mesh.internal.com", ""},
		{"no subset", ref(&hostname, &group, "reviews.mesh.internal.com", nil), "outbound|9080||reviews.mesh.internal.com", ""},
		{"unknown subset", ref(&hostname, &group, "reviews.mesh.internal.com", subset("v3")), "",
			`VirtualDestination bookinfo/reviews has no subset "v3" (declared: [v1 v2 west])`},
		{"invalid subset is unknown", ref(&hostname, &group, "reviews.mesh.internal.com", subset("Bad_Name")), "",
			`VirtualDestination bookinfo/reviews has no subset "Bad_Name" (declared: [v1 v2 west])`},
		{"two subset filters", ref(&hostname, &group, "reviews.mesh.internal.com", subset("v1", "v2")), "",
			"filters[1]: only one Subset filter is allowed per backendRef"},
		{"subset on a Service", ref(&svcKind, nil, "reviews", subset("v1")), "",
			`Subset "v1": a Subset filter applies only to Hostname and VirtualDestination backendRefs`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := br.resolveRef(route, tc.ref)
			if tc.errMsg != "" {
				if err == nil || err.Error() != tc.errMsg || reasonOf(err) != gwv1.RouteReasonBackendNotFound {
					t.Fatalf("err = %v (%v), want %q BackendNotFound", err, reasonOf(err), tc.errMsg)
				}
				return
			}
			if err != nil || got.cluster != tc.cluster {
				t.Fatalf("got %q, %v; want %q", got.cluster, err, tc.cluster)
			}
		})
	}
}

// TestUnknownSubsetStatus: status reports an unknown subset as ResolvedRefs
// False with reason BackendNotFound, from the same resolution Translate uses.
func TestUnknownSubsetStatus(t *testing.T) {
	w, err := file.Load("../testdata/translator/subset-unknown/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep := Statuses(w)
	if len(rep.HTTPRoutes) != 1 || len(rep.HTTPRoutes[0].Parents) != 1 {
		t.Fatalf("want one route with one parent, got %+v", rep.HTTPRoutes)
	}
	var refs *metav1.Condition
	for i, c := range rep.HTTPRoutes[0].Parents[0].Conditions {
		if c.Type == string(gwv1.RouteConditionResolvedRefs) {
			refs = &rep.HTTPRoutes[0].Parents[0].Conditions[i]
		}
	}
	if refs == nil || refs.Status != metav1.ConditionFalse || refs.Reason != string(gwv1.RouteReasonBackendNotFound) ||
		!strings.Contains(refs.Message, `has no subset "v3"`) {
		t.Errorf("ResolvedRefs = %+v, want False/BackendNotFound naming subset v3", refs)
	}
}
