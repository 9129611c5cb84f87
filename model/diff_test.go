package model

import (
	"reflect"
	"testing"
	"time"
)

// TestShapeHashCoversFields fails when a type the snapshot fingerprints
// (shapeHash, endpointsHash) gains a field they do not hash.
func TestShapeHashCoversFields(t *testing.T) {
	for typ, n := range map[reflect.Type]int{
		reflect.TypeOf(VirtualDestination{}):     10,
		reflect.TypeOf(VirtualDestinationPort{}): 3,
		reflect.TypeOf(ServiceSelector{}):        4,
		reflect.TypeOf(Subset{}):                 2,
		reflect.TypeOf(Age{}):                    2,
		reflect.TypeOf(Service{}):                6,
		reflect.TypeOf(Endpoint{}):               6,
		reflect.TypeOf(ServicePort{}):            5,
		reflect.TypeOf(EndpointPort{}):           2,
		reflect.TypeOf(TargetPort{}):             2,
		reflect.TypeOf(Locality{}):               3,
	} {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, the snapshot diff knows %d: update model/diff.go and this count", typ, typ.NumField(), n)
		}
	}
}

func TestEndpointsOnlyDiff(t *testing.T) {
	base := func() World {
		return World{
			Clusters: []Cluster{{Name: "c1"}},
			Services: []Service{
				{Cluster: "c1", Namespace: "ns", Name: "a", Labels: map[string]string{"app": "a"}, Ports: []ServicePort{{Port: 80}},
					Endpoints: []Endpoint{{Address: "10.0.0.1", Ready: true}, {Address: "10.0.0.2", Ready: true}}},
				{Cluster: "c1", Namespace: "ns", Name: "b", Labels: map[string]string{"app": "b"}},
			},
			VirtualDestinations: []VirtualDestination{{Namespace: "ns", Name: "vd", Hosts: []string{"a.mesh"},
				Ports: []VirtualDestinationPort{{Number: 80}}, Services: []ServiceSelector{{Labels: map[string]string{"app": "a"}}},
				Age: Age{CreationTimestamp: time.Unix(100, 0), Seq: 1}}},
		}
	}
	old := NewSnapshot(base())
	for _, tc := range []struct {
		name    string
		mutate  func(*World)
		ok      bool
		changed []string
	}{
		{"nothing", func(*World) {}, true, nil},
		{"readiness", func(w *World) { w.Services[0].Endpoints[1].Ready = false }, true, []string{"a"}},
		{"endpoint added", func(w *World) { w.Services[1].Endpoints = []Endpoint{{Address: "10.0.0.9"}} }, true, []string{"b"}},
		{"endpoint label", func(w *World) { w.Services[0].Endpoints[0].Labels = map[string]string{"v": "1"} }, true, []string{"a"}},
		{"service label", func(w *World) { w.Services[0].Labels["x"] = "y" }, false, nil},
		{"service port", func(w *World) { w.Services[0].Ports[0].TargetPort = 8080 }, false, nil},
		{"service removed", func(w *World) { w.Services = w.Services[:1] }, false, nil},
		{"vd host", func(w *World) { w.VirtualDestinations[0].Hosts[0] = "b.mesh" }, false, nil},
		{"vd age", func(w *World) { w.VirtualDestinations[0].Age.Seq = 2 }, false, nil},
		{"vd target port", func(w *World) { w.VirtualDestinations[0].Ports[0].TargetPort = &TargetPort{Number: 1} }, false, nil},
		{"cluster", func(w *World) { w.Clusters[0].Network = "n" }, false, nil},
		{"vd subset", func(w *World) { w.VirtualDestinations[0].Subsets = []Subset{{Name: "s"}} }, false, nil},
		{"vd selector", func(w *World) { w.VirtualDestinations[0].Services[0].Cluster = "c1" }, false, nil},
		{"endpoint locality", func(w *World) { w.Services[0].Endpoints[0].Locality.Zone = "z" }, true, []string{"a"}},
		{"endpoint stale", func(w *World) { w.Services[0].Endpoints[0].Stale = true }, true, []string{"a"}},
		{"endpoint port", func(w *World) { w.Services[0].Endpoints[0].Ports = []EndpointPort{{Port: 1}} }, true, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := base()
			tc.mutate(&w)
			changed, ok := EndpointsOnlyDiff(old, NewSnapshot(w))
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if len(changed) != len(tc.changed) {
				t.Fatalf("changed = %v, want %v", changed, tc.changed)
			}
			for _, name := range tc.changed {
				if !changed[ServiceKey{Cluster: "c1", Namespace: "ns", Name: name}] {
					t.Fatalf("changed = %v, want %v", changed, tc.changed)
				}
			}
		})
	}
}
