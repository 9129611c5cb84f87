package translator

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/model"
)

var benchClusters = []model.Cluster{
	{Name: "c1", Network: "n1", Locality: model.Locality{Region: "r1", Zone: "z1"}, EastWestGateways: []model.GatewayAddress{{Address: "127.0.1.100", Port: 15443}}},
	{Name: "c2", Network: "n2", Locality: model.Locality{Region: "r2", Zone: "z2"}, EastWestGateways: []model.GatewayAddress{{Address: "127.0.2.100", Port: 15443}}},
	{Name: "c3", Network: "n3", Locality: model.Locality{Region: "r3", Zone: "z3"}, EastWestGateways: []model.GatewayAddress{{Address: "127.0.3.100", Port: 15443}}},
}

// benchWorld builds three clusters with n VirtualDestinations, each backed
// by one Service per cluster with eps endpoints.
func benchWorld(n, eps int) *model.Snapshot { return model.NewSnapshot(benchWorldSpec(n, eps)) }

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

var benchSizes = []int{1000, 3000, 10000}

var benchProxy = model.Proxy{Role: model.RoleGateway, Cluster: "c1", Locality: model.Locality{Region: "r1", Zone: "z1"}}

// BenchmarkTranslate: full translation for one gateway class, n
// VirtualDestinations × 3 clusters × 10 endpoints per cluster.
func BenchmarkTranslate(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			w := benchWorld(n, 10)
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				r := Translate(w, benchProxy, Credentials{})
				if len(r.Clusters) != n || len(r.Endpoints) != n {
					b.Fatalf("got %d clusters, %d assignments, want %d", len(r.Clusters), len(r.Endpoints), n)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkTranslateEastWest: the same worlds for an east-west class.
func BenchmarkTranslateEastWest(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			w := benchWorld(n, 10)
			p := model.Proxy{Role: model.RoleEastWest, Cluster: "c2"}
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				if r := Translate(w, p, Credentials{}); len(r.Endpoints) != n {
					b.Fatalf("got %d assignments, want %d", len(r.Endpoints), n)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkLoadAssignments: the fast path for one changed Service.
func BenchmarkLoadAssignments(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			w := benchWorld(n, 10)
			changed := map[model.ServiceKey]bool{{Cluster: "c2", Namespace: "ns", Name: fmt.Sprintf("app-%d", n/2)}: true}
			// The first call indexes the world's structure, once per run of
			// endpoints-only changes; what is measured is every later one.
			LoadAssignments(w, benchProxy, changed)
			b.ReportAllocs()
			for b.Loop() {
				if las := LoadAssignments(w, benchProxy, changed); len(las) != 1 {
					b.Fatalf("got %d assignments, want 1", len(las))
				}
			}
		})
	}
}

// BenchmarkEndpointChange: one endpoint change as the xDS server handles
// it after a full translation of the world (which leaves the fast path's
// index behind): EndpointsOnlyChange against the previous world, then
// LoadAssignments of the changed Service, alternating between two worlds.
// first-change-ns is the first change after the translation alone.
func BenchmarkEndpointChange(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			spec := benchWorldSpec(n, 10)
			w0 := model.NewSnapshot(spec)
			spec.Services[3*(n/2)+1].Endpoints[3].Ready = false
			worlds := [2]*model.Snapshot{model.NewSnapshot(spec), w0}
			Translate(w0, benchProxy, Credentials{})
			prev, i := w0, 0
			var first time.Duration
			b.ReportAllocs()
			for b.Loop() {
				w := worlds[i%2]
				t0 := time.Now()
				changed, ok := EndpointsOnlyChange(prev, w)
				las := LoadAssignments(w, benchProxy, changed)
				if i == 0 {
					first = time.Since(t0)
				}
				if !ok || len(las) != 1 {
					b.Fatalf("fast path not taken: ok=%v assignments=%d", ok, len(las))
				}
				prev, i = w, i+1
			}
			b.ReportMetric(float64(first.Nanoseconds()), "first-change-ns")
		})
	}
}

// BenchmarkEndpointsOnlyChange: diffing two snapshots that differ in one
// endpoint's readiness.
func BenchmarkEndpointsOnlyChange(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			spec := benchWorldSpec(n, 10)
			old := model.NewSnapshot(spec)
			spec.Services[n/2].Endpoints[3].Ready = false
			nw := model.NewSnapshot(spec)
			b.ReportAllocs()
			for b.Loop() {
				if changed, ok := EndpointsOnlyChange(old, nw); !ok || len(changed) != 1 {
					b.Fatalf("got %v %v", changed, ok)
				}
			}
		})
	}
}

// BenchmarkStatuses: the status writer recomputes on every world change.
func BenchmarkStatuses(b *testing.B) {
	w := benchWorld(1000, 10)
	b.ReportAllocs()
	for b.Loop() {
		if rep := Statuses(w); len(rep.VirtualDestinations) != 1000 {
			b.Fatalf("got %d VirtualDestination statuses, want 1000", len(rep.VirtualDestinations))
		}
	}
}

// BenchmarkNewSnapshot: building the snapshot (deep copy, sort, index and
// fingerprints), which discovery pays on every change before translation.
func BenchmarkNewSnapshot(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("vds=%d", n), func(b *testing.B) {
			spec := benchWorldSpec(n, 10)
			b.ReportAllocs()
			for b.Loop() {
				model.NewSnapshot(spec)
			}
		})
	}
}

// cpuClock measures the process's CPU time (user+system, GC workers
// included) over a benchmark loop: on a shared machine it moves far less
// than wall time when other processes compete for the cores.
type cpuClock time.Duration

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock(processCPU()) }

// report adds cpu-ms/op.
func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-time.Duration(c))/float64(b.N)/1e6, "cpu-ms/op")
	}
}
