package model

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNewSnapshotIsIndependentOfItsWriter(t *testing.T) {
	w := World{
		Clusters: []Cluster{{Name: "c1", EastWestGateways: []GatewayAddress{{Address: "127.0.1.100", Port: 15443}}}},
		Services: []Service{{
			Cluster: "c1", Namespace: "ns", Name: "reviews",
			Labels:    map[string]string{"app": "reviews"},
			Endpoints: []Endpoint{{Address: "127.0.1.10", Ready: true, Labels: map[string]string{"v": "1"}}},
		}},
		VirtualDestinations: []VirtualDestination{{
			Namespace: "ns", Name: "vd", Hosts: []string{"a.example"},
			Ports:    []VirtualDestinationPort{{Number: 80, TargetPort: &TargetPort{Number: 8080}}},
			Services: []ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
		}},
		Gateways: []*Gateway{{ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "ns"}}},
	}
	s := NewSnapshot(w)

	// The writer keeps changing its world; the snapshot must not see it.
	w.Clusters[0].EastWestGateways[0].Address = "changed"
	w.Services[0].Labels["app"] = "changed"
	w.Services[0].Endpoints[0].Ready = false
	w.Services[0].Endpoints[0].Labels["v"] = "changed"
	w.VirtualDestinations[0].Hosts[0] = "changed"
	w.VirtualDestinations[0].Ports[0].TargetPort.Number = 1
	w.VirtualDestinations[0].Services[0].Labels["app"] = "changed"
	w.Gateways[0].Name = "changed"

	if got := s.Cluster("c1").EastWestGateways[0].Address; got != "127.0.1.100" {
		t.Errorf("east-west address = %q, want the original", got)
	}
	svc := s.Service(ServiceKey{Cluster: "c1", Namespace: "ns", Name: "reviews"})
	if svc == nil {
		t.Fatal("service not found by key")
	}
	if svc.Labels["app"] != "reviews" || !svc.Endpoints[0].Ready || svc.Endpoints[0].Labels["v"] != "1" {
		t.Errorf("service changed through the writer's maps: %+v", svc)
	}
	vd := s.VirtualDestinations()[0]
	if vd.Hosts[0] != "a.example" || vd.Ports[0].TargetPort.Number != 8080 || vd.Services[0].Labels["app"] != "reviews" {
		t.Errorf("virtual destination changed through the writer: %+v", vd)
	}
	if s.Gateways()[0].Name != "gw" {
		t.Errorf("gateway changed through the writer: %q", s.Gateways()[0].Name)
	}
}

func TestNewSnapshotSortsEverything(t *testing.T) {
	s := NewSnapshot(World{
		Clusters: []Cluster{{Name: "c2"}, {Name: "c1"}},
		Services: []Service{
			{Cluster: "c2", Namespace: "a", Name: "x"},
			{Cluster: "c1", Namespace: "b", Name: "x", Endpoints: []Endpoint{{Address: "127.0.0.3"}, {Address: "127.0.0.2"}}},
			{Cluster: "c1", Namespace: "a", Name: "y"},
		},
		VirtualDestinations: []VirtualDestination{{Namespace: "b", Name: "a"}, {Namespace: "a", Name: "b"}},
	})
	var clusters, services, vds, eps []string
	for _, c := range s.Clusters() {
		clusters = append(clusters, c.Name)
	}
	for _, svc := range s.Services() {
		services = append(services, svc.Key().String())
	}
	for _, vd := range s.VirtualDestinations() {
		vds = append(vds, vd.Namespace+"/"+vd.Name)
	}
	for _, ep := range s.Services()[1].Endpoints {
		eps = append(eps, ep.Address)
	}
	got := [][]string{clusters, services, vds, eps}
	want := [][]string{{"c1", "c2"}, {"c1/a/y", "c1/b/x", "c2/a/x"}, {"a/b", "b/a"}, {"127.0.0.2", "127.0.0.3"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestServiceSelector(t *testing.T) {
	svc := &Service{Cluster: "c1", Namespace: "bookinfo", Name: "reviews-v1", Labels: map[string]string{"app": "reviews", "version": "v1"}}
	tests := []struct {
		name string
		sel  ServiceSelector
		want bool
	}{
		{"empty selects everything", ServiceSelector{}, true},
		{"label subset", ServiceSelector{Labels: map[string]string{"app": "reviews"}}, true},
		{"label value differs", ServiceSelector{Labels: map[string]string{"app": "ratings"}}, false},
		{"label missing", ServiceSelector{Labels: map[string]string{"tier": "web"}}, false},
		{"cluster", ServiceSelector{Cluster: "c1", Labels: map[string]string{"app": "reviews"}}, true},
		{"other cluster", ServiceSelector{Cluster: "c2"}, false},
		{"namespace and name", ServiceSelector{Namespace: "bookinfo", Name: "reviews-v1"}, true},
		{"other namespace", ServiceSelector{Namespace: "default"}, false},
		{"other name", ServiceSelector{Name: "reviews-v2"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sel.Matches(svc); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStorePublishWakesSubscribersAndCoalesces(t *testing.T) {
	var st Store
	if st.Load() == nil {
		t.Fatal("zero Store must load an empty snapshot, not nil")
	}
	ch := st.Subscribe()
	first := NewSnapshot(World{Clusters: []Cluster{{Name: "one"}}})
	second := NewSnapshot(World{Clusters: []Cluster{{Name: "two"}}})
	st.Publish(first)
	st.Publish(second) // must not block although nobody read the first wake-up
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Fatal("subscriber was not woken")
	}
	if got := st.Load().Clusters()[0].Name; got != "two" {
		t.Errorf("Load after two publishes = %q, want the newest", got)
	}
	select {
	case <-ch:
		t.Error("two publishes produced two wake-ups; they should coalesce")
	default:
	}
}

func TestProxyValidate(t *testing.T) {
	tests := []struct {
		p       Proxy
		wantErr bool
	}{
		{Proxy{Role: RoleGateway, Cluster: "c1", Gateway: AllGateways}, false},
		{Proxy{Role: RoleEastWest, Cluster: "c1"}, false},
		{Proxy{Role: "sidecar", Cluster: "c1"}, true},
		{Proxy{Role: RoleGateway}, true},
	}
	for _, tc := range tests {
		if err := tc.p.Validate(); (err != nil) != tc.wantErr {
			t.Errorf("%+v: Validate() = %v, want error %v", tc.p, err, tc.wantErr)
		}
	}
}

func TestSnapshotGatewayLookup(t *testing.T) {
	gw := func(ns, name string) *Gateway {
		g := &Gateway{}
		g.Namespace, g.Name = ns, name
		return g
	}
	// "a-b/x" sorts before "a/x" by key ('-' < '/'): the lookup must use
	// the same key as the sort.
	s := NewSnapshot(World{Gateways: []*Gateway{gw("a", "x"), gw("a-b", "x"), gw("b", "y")}})
	for _, tc := range []struct{ ns, name string }{{"a", "x"}, {"a-b", "x"}, {"b", "y"}} {
		if got := s.Gateway(tc.ns, tc.name); got == nil || got.Namespace != tc.ns || got.Name != tc.name {
			t.Errorf("Gateway(%s, %s) = %v", tc.ns, tc.name, got)
		}
	}
	if got := s.Gateway("a", "y"); got != nil {
		t.Errorf("Gateway(a, y) = %s/%s, want nil", got.Namespace, got.Name)
	}
}
