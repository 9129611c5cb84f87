package model

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// randomWorld makes worlds of a few Services and VirtualDestinations whose
// contents a test replaces at random.
type randomWorld struct{ r *rand.Rand }

func (rw randomWorld) pick(prefix string, n int) string {
	return fmt.Sprintf("%s%d", prefix, rw.r.IntN(n))
}

func (rw randomWorld) labels() map[string]string {
	switch rw.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	m := map[string]string{"app": rw.pick("a", 3)}
	if rw.r.IntN(2) == 0 {
		m["v"] = rw.pick("v", 2)
	}
	return m
}

func (rw randomWorld) service(k ServiceKey) Service {
	svc := Service{Cluster: k.Cluster, Namespace: k.Namespace, Name: k.Name, Labels: rw.labels()}
	for range rw.r.IntN(3) {
		svc.Ports = append(svc.Ports, ServicePort{Name: rw.pick("p", 2), Port: uint32(80 + rw.r.IntN(2)), TargetPort: uint32(rw.r.IntN(2) * 8080), Protocol: "TCP"})
	}
	for range rw.r.IntN(5) {
		ep := Endpoint{Address: fmt.Sprintf("10.0.0.%d", rw.r.IntN(6)), Ready: rw.r.IntN(3) > 0, Stale: rw.r.IntN(5) == 0,
			Locality: Locality{Zone: rw.pick("z", 2)}, Labels: rw.labels()}
		if rw.r.IntN(2) == 0 {
			ep.Ports = []EndpointPort{{Name: "http", Port: uint32(8080 + rw.r.IntN(2))}}
		}
		svc.Endpoints = append(svc.Endpoints, ep)
	}
	return svc
}

func (rw randomWorld) selector() ServiceSelector {
	sel := ServiceSelector{Labels: rw.labels()}
	switch rw.r.IntN(4) {
	case 0:
		sel.Name = rw.pick("s", 6)
	case 1:
		sel.Namespace = rw.pick("ns", 2)
	case 2:
		sel.Cluster = rw.pick("c", 2)
	}
	return sel
}

func (rw randomWorld) vd(ns, name string) VirtualDestination {
	vd := VirtualDestination{Namespace: ns, Name: name, Hosts: []string{rw.pick("h", 3) + ".mesh"},
		Ports:    []VirtualDestinationPort{{Number: uint32(80 + rw.r.IntN(2)), Protocol: "HTTP"}},
		Services: []ServiceSelector{rw.selector()}, Labels: rw.labels(),
		Age: Age{CreationTimestamp: time.Unix(int64(rw.r.IntN(2)), 0), Seq: rw.r.IntN(3)}}
	if rw.r.IntN(2) == 0 {
		vd.Ports[0].TargetPort = &TargetPort{Number: 8080}
		vd.Subsets = []Subset{{Name: "s", Labels: rw.labels()}}
		vd.ExternalServices = []ServiceSelector{rw.selector()}
	}
	return vd
}

func (rw randomWorld) world() World {
	w := World{
		Clusters:         []Cluster{{Name: "c1", EastWestGateways: []GatewayAddress{{Address: "127.0.0.1", Port: 15443}}}, {Name: "c0"}},
		Gateways:         []*Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns0", Name: "gw"}}},
		ExternalServices: []*ExternalService{{ObjectMeta: metav1.ObjectMeta{Namespace: "ns0", Name: "ext"}}},
		Workspaces:       []Workspace{{Name: "ws", Namespaces: []WorkspaceNamespace{{Cluster: "*", Namespace: "*"}}}},
	}
	// Up to 200 Services, so that the fingerprints span several blocks.
	for i := range rw.r.IntN(200) {
		k := ServiceKey{Cluster: fmt.Sprintf("c%d", i%2), Namespace: fmt.Sprintf("ns%d", i/2%2), Name: fmt.Sprintf("s%d", i/4)}
		w.Services = append(w.Services, rw.service(k))
	}
	for i := range rw.r.IntN(20) {
		w.VirtualDestinations = append(w.VirtualDestinations, rw.vd(fmt.Sprintf("ns%d", i%2), fmt.Sprintf("vd%d", i/2)))
	}
	rw.r.Shuffle(len(w.Services), func(i, j int) { w.Services[i], w.Services[j] = w.Services[j], w.Services[i] })
	rw.r.Shuffle(len(w.VirtualDestinations), func(i, j int) {
		w.VirtualDestinations[i], w.VirtualDestinations[j] = w.VirtualDestinations[j], w.VirtualDestinations[i]
	})
	return w
}

// change replaces a few Services and VirtualDestinations of w (same keys),
// some of them with their endpoints only, and returns the new world and
// the replacements.
func (rw randomWorld) change(w World) (World, Changes) {
	var c Changes
	w.Services = append([]Service(nil), w.Services...)
	w.VirtualDestinations = append([]VirtualDestination(nil), w.VirtualDestinations...)
	for range rw.r.IntN(4) {
		if len(w.Services) == 0 {
			break
		}
		i := rw.r.IntN(len(w.Services))
		svc := rw.service(w.Services[i].Key())
		if rw.r.IntN(2) == 0 { // endpoints only
			old := w.Services[i]
			old.Endpoints = svc.Endpoints
			svc = old
		}
		w.Services[i] = svc
		c.Services = append(c.Services, cloneService(svc))
	}
	c.Services = lastOfEachKey(c.Services, func(s *Service) string { return s.Key().String() })
	if rw.r.IntN(3) == 0 && len(w.VirtualDestinations) > 0 {
		i := rw.r.IntN(len(w.VirtualDestinations))
		vd := rw.vd(w.VirtualDestinations[i].Namespace, w.VirtualDestinations[i].Name)
		w.VirtualDestinations[i] = vd
		c.VirtualDestinations = append(c.VirtualDestinations, cloneVD(vd))
	}
	return w, c
}

func lastOfEachKey[T any](list []T, key func(*T) string) []T {
	seen := map[string]bool{}
	var out []T
	for i := len(list) - 1; i >= 0; i-- {
		if k := key(&list[i]); !seen[k] {
			seen[k] = true
			out = append(out, list[i])
		}
	}
	return out
}

// snapshotOptions compare snapshots field by field but for the lazily
// built index (compared through the selections instead).
var snapshotOptions = cmp.Options{
	cmp.AllowUnexported(Snapshot{}, shape{}),
	cmpopts.IgnoreFields(Snapshot{}, "svcIndex"),
	cmpopts.EquateEmpty(),
}

// equalSnapshots compares snapshots field by field but for the lazily
// built index (sameSnapshot compares it through the selections); it is
// cmp.Equal(a, b, snapshotOptions), only much faster.
func equalSnapshots(a, b *Snapshot) bool {
	x, y := *a, *b
	x.svcIndex, y.svcIndex = nil, nil
	return reflect.DeepEqual(x, y)
}

// sameSnapshot fails when got reads differently from want through any
// accessor or diff.
func sameSnapshot(t *testing.T, rw randomWorld, want, got *Snapshot) {
	t.Helper()
	if !equalSnapshots(want, got) {
		t.Fatalf("snapshot differs from NewSnapshot's (-want +got):\n%s", cmp.Diff(want, got, snapshotOptions))
	}
	for _, s := range []*Snapshot{want, got} {
		for i := range s.services {
			if s.Service(s.services[i].Key()) != &s.services[i] {
				t.Fatalf("Service(%s) is not the listed one", s.services[i].Key())
			}
		}
		if s.Service(ServiceKey{Name: "none"}) != nil {
			t.Fatal("Service found for a key the snapshot lacks")
		}
	}
	for _, vd := range want.VirtualDestinations() {
		if w, g := want.SelectedServices(&vd), got.SelectedServices(&vd); !reflect.DeepEqual(w, g) {
			t.Fatalf("SelectedServices(%s/%s) differ (-want +got):\n%s", vd.Namespace, vd.Name, cmp.Diff(w, g))
		}
	}
	for range 5 {
		sels := []ServiceSelector{rw.selector(), rw.selector()}[:1+rw.r.IntN(2)]
		if w, g := want.SelectServices(sels), got.SelectServices(sels); !reflect.DeepEqual(w, g) {
			t.Fatalf("SelectServices(%v) differ (-want +got):\n%s", sels, cmp.Diff(w, g))
		}
	}
	if w, g := want.WithoutEndpoints(), got.WithoutEndpoints(); !equalSnapshots(w, g) {
		t.Fatalf("WithoutEndpoints differ (-want +got):\n%s", cmp.Diff(w, g, snapshotOptions))
	}
	if changed, ok := EndpointsOnlyDiff(want, got); !ok || len(changed) != 0 {
		t.Fatalf("EndpointsOnlyDiff(NewSnapshot, With) = %v, %v; want no change", changed, ok)
	}
}

// With makes the snapshot NewSnapshot makes of the changed world, shares
// nothing with the writer, and leaves the snapshot it started from as it was.
func TestWithMatchesNewSnapshot(t *testing.T) {
	for seed := range uint64(30) {
		rw := randomWorld{rand.New(rand.NewPCG(seed, 2))}
		w := rw.world()
		prev := NewSnapshot(w)
		for step := range 30 {
			if rw.r.IntN(2) == 0 {
				prev.SelectServices([]ServiceSelector{{Name: "s0"}}) // build the index With may share
			}
			next, c := rw.change(w)
			want := NewSnapshot(next)
			got, ok := prev.With(c)
			if !ok {
				t.Fatalf("seed %d step %d: With refused changes of existing objects", seed, step)
			}
			wantDiff, wantOK := EndpointsOnlyDiff(NewSnapshot(w), want)
			gotDiff, gotOK := EndpointsOnlyDiff(prev, got)
			if wantOK != gotOK || !cmp.Equal(wantDiff, gotDiff) {
				t.Fatalf("seed %d step %d: EndpointsOnlyDiff = %v, %v; NewSnapshot's %v, %v", seed, step, gotDiff, gotOK, wantDiff, wantOK)
			}
			// The writer keeps changing what it passed.
			for i := range c.Services {
				c.Services[i].Name = "changed"
				c.Services[i].Labels = map[string]string{"changed": "1"}
				for j := range c.Services[i].Endpoints {
					c.Services[i].Endpoints[j].Address = "changed"
					if c.Services[i].Endpoints[j].Labels != nil {
						c.Services[i].Endpoints[j].Labels["changed"] = "1"
					}
				}
			}
			for i := range c.VirtualDestinations {
				c.VirtualDestinations[i].Hosts[0] = "changed"
				c.VirtualDestinations[i].Services[0].Name = "changed"
			}
			sameSnapshot(t, rw, want, got)
			sameSnapshot(t, rw, NewSnapshot(w), prev)
			w, prev = next, got // go on from With's snapshot
			if rw.r.IntN(2) == 0 {
				prev = NewSnapshot(next)
			}
		}
	}
}

// cloneService deep-copies svc: the test changes the copy With was given
// but not the world.
func cloneService(svc Service) Service {
	svc.Labels = maps.Clone(svc.Labels)
	svc.Ports = slices.Clone(svc.Ports)
	svc.Endpoints = slices.Clone(svc.Endpoints)
	for i := range svc.Endpoints {
		svc.Endpoints[i].Labels = maps.Clone(svc.Endpoints[i].Labels)
		svc.Endpoints[i].Ports = slices.Clone(svc.Endpoints[i].Ports)
	}
	return svc
}

// cloneVD deep-copies what the test changes of vd.
func cloneVD(vd VirtualDestination) VirtualDestination {
	vd.Hosts = slices.Clone(vd.Hosts)
	vd.Services = slices.Clone(vd.Services)
	return vd
}
