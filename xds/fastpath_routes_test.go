package xds

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// routeWorldSpec is the gateway input: n HTTPRoutes of two rules
// each (hostname app-i.example.com, /a to Service app-i, /b to Service
// app-i+1), n Services of ten endpoints, one Gateway with one HTTP
// listener, all in cluster c1 (benchProxy's).
func routeWorldSpec(n int) model.World {
	w := model.World{Clusters: benchClusters, GatewayClasses: []*model.GatewayClass{causewayClass()},
		Gateways: []*model.Gateway{ingressGateway("ns", "c1")}}
	for i := range n {
		app := fmt.Sprintf("app-%d", i)
		svc := model.Service{Cluster: "c1", Namespace: "ns", Name: app, Labels: map[string]string{"app": app},
			Ports: []model.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}}
		for e := range 10 {
			svc.Endpoints = append(svc.Endpoints, model.Endpoint{
				Address: fmt.Sprintf("10.%d.%d.%d", i/250%250, i%250, e), Ready: true,
				Ports: []model.EndpointPort{{Name: "http", Port: 8080}}, Locality: benchClusters[0].Locality,
			})
		}
		w.Services = append(w.Services, svc)
		w.HTTPRoutes = append(w.HTTPRoutes, serviceRoute(app, i, n, "/b"))
	}
	return w
}

// serviceRoute is route i of routeWorldSpec, its second rule matching
// path prefix second.
func serviceRoute(name string, i, n int, second string) *model.HTTPRoute {
	backend := func(svc string) []gwv1.HTTPBackendRef {
		return []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Name: gwv1.ObjectName(svc), Port: ptr(gwv1.PortNumber(80))}}}}
	}
	prefix := func(p string) []gwv1.HTTPRouteMatch {
		return []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr(p)}}}
	}
	return &model.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "ingress"}}},
			Hostnames:       []gwv1.Hostname{gwv1.Hostname(fmt.Sprintf("app-%d.example.com", i))},
			Rules: []gwv1.HTTPRouteRule{
				{Matches: prefix("/a"), BackendRefs: backend(fmt.Sprintf("app-%d", i))},
				{Matches: prefix(second), BackendRefs: backend(fmt.Sprintf("app-%d", (i+1)%n))},
			},
		},
	}
}

// changedNames are the names of typ that changed from prev's set to snap's.
func changedNames(prev, snap *classSnapshot, typ string) []string {
	a, b := prev.set(typ), snap.set(typ)
	if a == b {
		return nil
	}
	return slices.Sorted(slices.Values(b.changedSince(a)))
}

// A change to HTTPRoutes only takes the route fast path and publishes what
// a full translation would, changing only the route configuration and the
// clusters (and load assignments) that come or go.
func TestRouteFastPathPublishesOnlyWhatChanged(t *testing.T) {
	const n = 40
	spec := routeWorldSpec(n)
	store := &model.Store{}
	store.Publish(model.NewSnapshot(spec))
	s, c := benchServer(t, store)
	ew := addClass(t, s, model.Proxy{Role: model.RoleEastWest, Cluster: "c1"})
	full := countTranslations(s)
	const rc = "gateway_8080"
	lone := model.Service{Cluster: "c1", Namespace: "ns", Name: "lone", Ports: []model.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}},
		Endpoints: []model.Endpoint{{Address: "10.99.0.1", Ready: true, Ports: []model.EndpointPort{{Name: "http", Port: 8080}}}}}
	spec.Services = append(spec.Services, lone)
	store.Publish(model.NewSnapshot(spec))
	s.rebuildAll() // a structural change: both classes translated in full
	*full = 0
	loneCluster := ""
	steps := []struct {
		name     string
		edit     func()
		clusters int // clusters added or removed
	}{
		{"path of one rule", func() { spec.HTTPRoutes[3] = serviceRoute("app-3", 3, n, "/c") }, 0},
		{"backend to an unused Service", func() {
			r := serviceRoute("app-5", 5, n, "/b")
			r.Spec.Rules[1].BackendRefs[0].Name = "lone"
			spec.HTTPRoutes[5] = r
		}, 1},
		{"route added", func() {
			r := serviceRoute("app-new", n+1, n, "/b")
			r.Spec.Hostnames = []gwv1.Hostname{"new.example.com"}
			spec.HTTPRoutes = append(spec.HTTPRoutes, r)
		}, 0},
		{"backend back: the Service's cluster goes", func() { spec.HTTPRoutes[5] = serviceRoute("app-5", 5, n, "/b") }, 1},
		{"hostname changed to a wildcard", func() {
			r := serviceRoute("app-7", 7, n, "/b")
			r.Spec.Hostnames = []gwv1.Hostname{"*.example.com"}
			spec.HTTPRoutes[7] = r
		}, 0},
		{"route removed", func() { spec.HTTPRoutes = slices.Delete(spec.HTTPRoutes, 9, 10) }, 0},
	}
	for _, step := range steps {
		prev, prevEW := c.snap, ew.snap
		step.edit()
		world := model.NewSnapshot(spec)
		store.Publish(world)
		s.rebuildAll()
		s.mu.Lock()
		checkMatchesFull(t, s, c, world)
		checkMatchesFull(t, s, ew, world)
		s.mu.Unlock()
		if ew.snap != prevEW {
			t.Errorf("%s: the east-west class published", step.name)
		}
		if got := changedNames(prev, c.snap, resource.RouteType); !slices.Equal(got, []string{rc}) {
			t.Errorf("%s: changed route configurations %v, want [%s]", step.name, got, rc)
		}
		for _, typ := range []string{resource.ListenerType, resource.SecretType} {
			if prev.set(typ) != c.snap.set(typ) {
				t.Errorf("%s: %s set replaced", step.name, typ)
			}
		}
		cl, eds := changedNames(prev, c.snap, resource.ClusterType), changedNames(prev, c.snap, resource.EndpointType)
		if len(cl) != step.clusters || !slices.Equal(cl, eds) {
			t.Errorf("%s: changed clusters %v and load assignments %v, want %d of each", step.name, cl, eds, step.clusters)
		}
		if len(cl) == 1 {
			if loneCluster == "" {
				loneCluster = cl[0]
			} else if cl[0] != loneCluster {
				t.Errorf("%s: cluster %s changed, want %s", step.name, cl[0], loneCluster)
			}
		}
		if t.Failed() {
			t.Fatalf("after step %q", step.name)
		}
	}
	if *full != 0 {
		t.Errorf("%d full translations for HTTPRoute changes, want 0", *full)
	}
	// Anything else takes the full path.
	spec.Gateways[0].Spec.Listeners[0].Port = 8081
	store.Publish(model.NewSnapshot(spec))
	s.rebuildAll()
	if *full != 2 {
		t.Errorf("%d full translations after a Gateway change, want 2 (one per class)", *full)
	}
}

// A patched route configuration's encoding is the one marshalling the
// whole configuration gives, byte for byte.
func TestPatchedRouteConfigEncoding(t *testing.T) {
	spec := routeWorldSpec(30)
	store := &model.Store{}
	store.Publish(model.NewSnapshot(spec))
	s, c := benchServer(t, store)
	spec.HTTPRoutes[11] = serviceRoute("app-11", 11, 30, "/z")
	world := model.NewSnapshot(spec)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := translator.RouteUpdates(c.world, world, c.proxy, map[string]bool{"ns/app-11": true})
	if !ok || len(u.Routes) != 1 || len(u.Routes[0].Built) != 1 {
		t.Fatalf("RouteUpdates = %+v, %v; want one configuration with one rebuilt virtual host", u, ok)
	}
	snap, _, err := c.snap.withRoutes(u)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := newSnapshot(translator.Translate(world, c.proxy, translator.Credentials{}))
	if err != nil {
		t.Fatal(err)
	}
	got, exp := snap.sets[types.Route].items["gateway_8080"], want.sets[types.Route].items["gateway_8080"]
	if string(got.wire.Resource.Value) != string(exp.wire.Resource.Value) || got.wire.Version != exp.wire.Version {
		t.Fatalf("patched encoding (%d bytes, version %s) differs from the full one (%d bytes, version %s)",
			len(got.wire.Resource.Value), got.wire.Version, len(exp.wire.Resource.Value), exp.wire.Version)
	}
}

// BenchmarkRouteFastPath: the control-plane work for one HTTPRoute change
// in a world of n routes on one Gateway listener port (so one route
// configuration of n virtual hosts): diff, route fast path, patch (encode
// the rebuilt virtual host, reuse the others' encodings), hash, validate
// and SetSnapshot. Building the world snapshot is the discovery source's
// work and is outside the timer.
func BenchmarkRouteFastPath(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			w0 := model.NewSnapshot(routeWorldSpec(n))
			// The change as discovery makes it (Snapshot.With): unchanged
			// routes are shared with the last world.
			w1, ok := w0.With(model.Changes{HTTPRoutes: []*model.HTTPRoute{serviceRoute(fmt.Sprintf("app-%d", n/2), n/2, n, "/b2")}})
			if !ok {
				b.Fatal("Snapshot.With refused the route")
			}
			store := &model.Store{}
			store.Publish(w0)
			s, c := benchServer(b, store)
			worlds := [2]*model.Snapshot{w1, w0}
			var diff, routes, patch time.Duration
			runtime.GC() // not the setup's garbage
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				w := worlds[i%2]
				i++
				prev := c.version
				store.Publish(w)
				s.mu.Lock()
				t0 := time.Now()
				changed, ok := s.routesOnly(c.world, w)
				t1 := time.Now()
				u, uok := s.routeUpdates(c.world, w, c.proxy, changed)
				t2 := time.Now()
				var err error
				if uok {
					var snap *classSnapshot
					if snap, _, err = c.snap.withRoutes(u); err == nil {
						s.publishLocked(c, snap, t2)
						c.world = w
					}
				}
				t3 := time.Now()
				s.mu.Unlock()
				if !ok || !uok || len(changed) != 1 || err != nil || c.version == prev {
					b.Fatalf("fast path not taken: diff %v %v, update %v, err %v", changed, ok, uok, err)
				}
				diff, routes, patch = diff+t1.Sub(t0), routes+t2.Sub(t1), patch+t3.Sub(t2)
			}
			b.ReportMetric(float64(diff.Nanoseconds())/float64(i), "diff-ns/op")
			b.ReportMetric(float64(routes.Nanoseconds())/float64(i), "routes-ns/op")
			b.ReportMetric(float64(patch.Nanoseconds())/float64(i), "patch+set-ns/op")
		})
	}
}
