package xds

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// The benchmark world: n VirtualDestinations, each backed by one Service
// in each of three clusters with ten endpoints; one gateway class in c1.
var benchClusters = []model.Cluster{
	{Name: "c1", Network: "n1", Locality: model.Locality{Region: "r1", Zone: "z1"}, EastWestGateways: []model.GatewayAddress{{Address: "127.0.1.100", Port: 15443}}},
	{Name: "c2", Network: "n2", Locality: model.Locality{Region: "r2", Zone: "z2"}, EastWestGateways: []model.GatewayAddress{{Address: "127.0.2.100", Port: 15443}}},
	{Name: "c3", Network: "n3", Locality: model.Locality{Region: "r3", Zone: "z3"}, EastWestGateways: []model.GatewayAddress{{Address: "127.0.3.100", Port: 15443}}},
}

var benchProxy = model.Proxy{Role: model.RoleGateway, Cluster: "c1", Locality: model.Locality{Region: "r1", Zone: "z1"}}

func benchWorldSpec(n, eps int) model.World {
	w := model.World{Clusters: benchClusters}
	for i := 0; i < n; i++ {
		app := fmt.Sprintf("app-%d", i)
		for c := range w.Clusters {
			svc := model.Service{Cluster: w.Clusters[c].Name, Namespace: "ns", Name: app, Labels: map[string]string{"app": app},
				Ports: []model.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}}
			for e := 0; e < eps; e++ {
				svc.Endpoints = append(svc.Endpoints, model.Endpoint{
					Address: fmt.Sprintf("10.%d.%d.%d", c, i%250, e%250), Ready: true,
					Ports:    []model.EndpointPort{{Name: "http", Port: 8080}},
					Locality: w.Clusters[c].Locality,
				})
			}
			w.Services = append(w.Services, svc)
		}
		w.VirtualDestinations = append(w.VirtualDestinations, model.VirtualDestination{
			Namespace: "ns", Name: app, Hosts: []string{app + ".mesh.internal"},
			Ports:               []model.VirtualDestinationPort{{Number: 80}},
			Services:            []model.ServiceSelector{{Labels: map[string]string{"app": app}}},
			TrafficDistribution: model.TrafficDistributionPreferClose,
		})
	}
	return w
}

// benchWorlds returns two worlds of n VirtualDestinations that differ in
// the readiness of one endpoint of one Service in c2.
func benchWorlds(n int) (a, b *model.Snapshot) {
	spec := benchWorldSpec(n, 10)
	a = model.NewSnapshot(spec)
	spec.Services[3*(n/2)+1].Endpoints[3].Ready = false
	return a, model.NewSnapshot(spec)
}

// benchServer is a server (not serving) with one active gateway class
// built from world.
func benchServer(b testing.TB, store *model.Store) (*Server, *class) {
	b.Helper()
	authority, err := ca.LoadOrCreate(b.TempDir(), "causeway.local")
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(Options{Store: store, CA: authority, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return s, addClass(b, s, benchProxy)
}

// addClass registers and builds a class for p without a stream.
func addClass(b testing.TB, s *Server, p model.Proxy) *class {
	b.Helper()
	c := &class{key: p.ClassKey(), proxy: p, streams: 1}
	s.mu.Lock()
	s.classes[c.key] = c
	s.buildLocked(c, s.store.Load())
	s.mu.Unlock()
	if c.snap == nil {
		b.Fatal("class not built")
	}
	return c
}

var allFastPathSizes = []int{1000, 10000}

// benchSizes are the world sizes to run: only the smallest with -short.
func benchSizes() []int {
	if testing.Short() {
		return allFastPathSizes[:1]
	}
	return allFastPathSizes
}

// BenchmarkEndpointFastPath: the control-plane work for one endpoint
// change, from the store publish of the new world to the class snapshot
// set in the cache: diff, load assignments of the changed Service, patch,
// hash, validate and SetSnapshot. Building the world snapshot itself is the
// discovery source's work and is outside the timer.
func BenchmarkEndpointFastPath(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			w0, w1 := benchWorlds(n)
			store := &model.Store{}
			store.Publish(w0)
			s, c := benchServer(b, store)
			worlds := [2]*model.Snapshot{w1, w0}
			var diff, las, patch time.Duration
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
				changed, ok := s.endpointsOnly(c.world, w)
				t1 := time.Now()
				clas := s.loadAssignments(w, c.proxy, changed)
				t2 := time.Now()
				snap, _, err := c.snap.withEndpoints(clas)
				if err == nil {
					s.publishLocked(c, snap, t2)
					c.world = w
				}
				t3 := time.Now()
				s.mu.Unlock()
				if !ok || len(clas) != 1 || err != nil || c.version == prev {
					b.Fatalf("fast path not taken: ok=%v assignments=%d err=%v", ok, len(clas), err)
				}
				diff, las, patch = diff+t1.Sub(t0), las+t2.Sub(t1), patch+t3.Sub(t2)
			}
			b.ReportMetric(float64(diff.Nanoseconds())/float64(i), "diff-ns/op")
			b.ReportMetric(float64(las.Nanoseconds())/float64(i), "loadassign-ns/op")
			b.ReportMetric(float64(patch.Nanoseconds())/float64(i), "patch+set-ns/op")
		})
	}
}

// BenchmarkEndpointFastPathRebuildAll is the same change through the
// server's update entry point (rebuildAll), the path a debounced store
// update takes.
func BenchmarkEndpointFastPathRebuildAll(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			w0, w1 := benchWorlds(n)
			store := &model.Store{}
			store.Publish(w0)
			s, c := benchServer(b, store)
			worlds := [2]*model.Snapshot{w1, w0}
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				prev := c.version
				store.Publish(worlds[i%2])
				i++
				s.rebuildAll()
				if c.version == prev {
					b.Fatal("nothing published")
				}
			}
		})
	}
}

// BenchmarkFullPush: a full rebuild of the class (translate, marshal and
// hash every resource, validate, SetSnapshot) plus marshalling every
// resource for the wire once, as one state-of-the-world stream's responses
// do. Compare with BenchmarkMarshalFloor.
//
// warm: the class has a published snapshot, so resources whose version is
// unchanged are not validated again (a rebuild after a structural change);
// cold: nothing published yet, everything validated (a new class).
func BenchmarkFullPush(b *testing.B) {
	for _, mode := range []string{"warm", "cold"} {
		for _, n := range benchSizes() {
			b.Run(fmt.Sprintf("%s/vds=%d", mode, n), func(b *testing.B) { benchFullPush(b, n, mode == "cold") })
		}
	}
}

func benchFullPush(b *testing.B, n int, cold bool) {
	{
		{
			w0, w1 := benchWorlds(n)
			store := &model.Store{}
			store.Publish(w0)
			s, c := benchServer(b, store)
			worlds := [2]*model.Snapshot{w1, w0}
			b.ReportAllocs()
			i := 0
			var translate, translating time.Duration
			s.translate = func(w *model.Snapshot, p model.Proxy, cr translator.Credentials, emit func(*endpointv3.ClusterLoadAssignment)) *translator.Resources {
				t0 := time.Now()
				defer func() { translating += time.Since(t0) }()
				return translator.TranslateStreaming(w, p, cr, emit)
			}
			for b.Loop() {
				prev := c.version
				s.mu.Lock()
				if cold {
					c.snap = nil
				}
				t0 := time.Now()
				s.buildLocked(c, worlds[i%2])
				translate += time.Since(t0)
				s.mu.Unlock()
				i++
				if c.version == prev {
					b.Fatal("nothing published")
				}
				if _, err := encodeResponses(c.snap); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(translate.Nanoseconds())/float64(i), "build-ns/op")
			b.ReportMetric(float64(translating.Nanoseconds())/float64(i), "translate-ns/op")
		}
	}
}

// BenchmarkMarshalFloor: marshalling the same resources once.
func BenchmarkMarshalFloor(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			store := &model.Store{}
			w0, _ := benchWorlds(n)
			store.Publish(w0)
			_, c := benchServer(b, store)
			var msgs []types.Resource
			for _, typ := range snapshotTypes {
				rs, err := c.snap.GetResources(typ)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range rs {
					msgs = append(msgs, r)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			var bytes int
			for b.Loop() {
				bytes = 0
				for _, m := range msgs {
					bs, err := cache.MarshalResource(m)
					if err != nil {
						b.Fatal(err)
					}
					bytes += len(bs)
				}
			}
			b.ReportMetric(float64(bytes), "snapshot-bytes")
		})
	}
}

// encodeResponses encodes one state-of-the-world response per type, as a
// stream sends them (the resources' own encodings are shared).
func encodeResponses(s *classSnapshot) (int, error) {
	n := 0
	for _, typ := range snapshotTypes {
		rs := s.set(typ)
		_, anys := rs.wire()
		bs, err := proto.Marshal(&discoveryv3.DiscoveryResponse{VersionInfo: rs.version, TypeUrl: typ, Resources: anys, Nonce: "1"})
		if err != nil {
			return 0, err
		}
		n += len(bs)
	}
	return n, nil
}
