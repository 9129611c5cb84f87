package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEndpointHandoff(t *testing.T) {
	ep := func(addr string, ready bool) Endpoint {
		return Endpoint{Address: addr, Ready: ready, Ports: []EndpointPort{{Name: "http", Port: 9080}}}
	}
	world := func(c1, c2 []Endpoint) *Snapshot {
		return NewSnapshot(World{
			Clusters: []Cluster{{Name: "c1"}, {Name: "c2"}},
			Services: []Service{
				{Cluster: "c1", Namespace: "app", Name: "web", Ports: []ServicePort{{Name: "http", Port: 80}}, Endpoints: c1},
				{Cluster: "c2", Namespace: "app", Name: "web", Ports: []ServicePort{{Name: "http", Port: 80}}, Endpoints: c2},
			},
		})
	}
	c1 := ServiceKey{Cluster: "c1", Namespace: "app", Name: "web"}
	c2 := ServiceKey{Cluster: "c2", Namespace: "app", Name: "web"}
	up := []Endpoint{ep("10.0.1.1", true), ep("10.0.1.2", true)}
	type endpoints map[ServiceKey][]Endpoint
	for _, tc := range []struct {
		name       string
		prev, next *Snapshot
		want       bool
		gw, ew     endpoints // nil: the handoff world is next itself
	}{
		{name: "leaving: east-west keeps them ready",
			prev: world(up, up), next: world(up, []Endpoint{ep("10.0.1.1", false), ep("10.0.1.2", true)}),
			want: true, ew: endpoints{c2: up}},
		{name: "removed: east-west keeps them as they were",
			prev: world(up, up), next: world(up, up[1:]),
			want: true, ew: endpoints{c2: up}}, // endpoints are kept sorted
		{name: "arriving: gateways wait for them",
			prev: world(up, []Endpoint{ep("10.0.1.1", false)}), next: world(up, up),
			want: true, gw: endpoints{c2: {ep("10.0.1.1", false), ep("10.0.1.2", false)}}},
		{name: "failover: c1 leaves while c2 arrives",
			prev: world(up, nil), next: world([]Endpoint{ep("10.0.1.1", false), ep("10.0.1.2", false)}, up),
			want: true, gw: endpoints{c2: {ep("10.0.1.1", false), ep("10.0.1.2", false)}}, ew: endpoints{c1: up}},
		{name: "a new port is another endpoint",
			prev: world(up, up), next: world(up, []Endpoint{{Address: "10.0.1.1", Ready: true, Ports: []EndpointPort{{Name: "http", Port: 9090}}}, up[1]}),
			want: true,
			gw:   endpoints{c2: {{Address: "10.0.1.1", Ready: false, Ports: []EndpointPort{{Name: "http", Port: 9090}}}, up[1]}},
			ew:   endpoints{c2: {{Address: "10.0.1.1", Ready: true, Ports: []EndpointPort{{Name: "http", Port: 9090}}}, up[0], up[1]}}},
		{name: "no readiness change", prev: world(up, up),
			next: world(up, []Endpoint{{Address: "10.0.1.1", Ready: true, Ports: up[0].Ports, Labels: map[string]string{"v": "2"}}, up[1]})},
		{name: "same world", prev: world(up, up), next: world(up, up)},
		{name: "structural change", prev: world(up, up), next: NewSnapshot(World{Clusters: []Cluster{{Name: "c1"}}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := EndpointHandoff(tc.prev, tc.next)
			if ok != tc.want {
				t.Fatalf("ok = %v, want %v", ok, tc.want)
			}
			if !ok {
				return
			}
			check := func(role string, got *Snapshot, want endpoints) {
				if want == nil {
					if got != tc.next {
						t.Errorf("%s world is not the next world itself", role)
					}
					return
				}
				if _, endpointsOnly := EndpointsOnlyDiff(tc.next, got); !endpointsOnly {
					t.Errorf("%s world differs from the next world in more than endpoints", role)
				}
				for _, k := range []ServiceKey{c1, c2} {
					w, ok := want[k]
					if !ok {
						w = tc.next.Service(k).Endpoints
					}
					if diff := cmp.Diff(w, got.Service(k).Endpoints); diff != "" {
						t.Errorf("%s world, %v endpoints (-want +got):\n%s", role, k, diff)
					}
				}
			}
			check("gateway", h.Gateways, tc.gw)
			check("east-west", h.EastWest, tc.ew)
		})
	}
}
