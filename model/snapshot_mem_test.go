package model

import (
	"fmt"
	"runtime"
	"testing"
)

// memWorld is n VirtualDestinations' worth of Services as the load tool
// and the benchmarks shape them: one Service per cluster of three, eps
// endpoints each. With podLabels every endpoint carries its own label map
// (equal within a Service), as Kubernetes discovery delivers pod labels.
func memWorld(n, eps int, podLabels bool) World {
	clusters := []Cluster{
		{Name: "c1", Locality: Locality{Region: "r1", Zone: "z1"}},
		{Name: "c2", Locality: Locality{Region: "r2", Zone: "z2"}},
		{Name: "c3", Locality: Locality{Region: "r3", Zone: "z3"}},
	}
	w := World{Clusters: clusters}
	for i := 0; i < n; i++ {
		app := fmt.Sprintf("app-%d", i)
		for c := range clusters {
			svc := Service{Cluster: clusters[c].Name, Namespace: "ns", Name: app, Labels: map[string]string{"app": app},
				Ports: []ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}}
			for e := 0; e < eps; e++ {
				ep := Endpoint{
					Address: fmt.Sprintf("10.%d.%d.%d", c, i%250, e%250), Ready: true,
					Ports:    []EndpointPort{{Name: "http", Port: 8080}},
					Locality: clusters[c].Locality,
				}
				if podLabels {
					ep.Labels = map[string]string{"app": app, "version": "v1", "pod-template-hash": "5d8f7c9b6"}
				}
				svc.Endpoints = append(svc.Endpoints, ep)
			}
			w.Services = append(w.Services, svc)
		}
	}
	return w
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestSnapshotBytesPerEndpoint reports what a snapshot of 300,000
// endpoints (10,000 VirtualDestinations × 3 clusters × 10) holds per
// endpoint beyond its input, which stays alive (endpoint addresses and
// other strings are the input's, shared). It reports, asserting only a
// loose bound, since the number depends on the Go runtime.
func TestSnapshotBytesPerEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 300,000-endpoint world")
	}
	for _, podLabels := range []bool{false, true} {
		t.Run(fmt.Sprintf("podLabels=%v", podLabels), func(t *testing.T) {
			w := memWorld(10000, 10, podLabels)
			endpoints := 0
			for _, svc := range w.Services {
				endpoints += len(svc.Endpoints)
			}
			before := heapInUse()
			s := NewSnapshot(w)
			after := heapInUse()
			perEndpoint := float64(after-before) / float64(endpoints)
			t.Logf("%d endpoints: snapshot holds %.1f MiB, %.0f bytes per endpoint", endpoints, float64(after-before)/(1<<20), perEndpoint)
			if perEndpoint > 1000 {
				t.Errorf("%.0f bytes per endpoint: something is copied per endpoint again", perEndpoint)
			}
			runtime.KeepAlive(s)
			runtime.KeepAlive(w)
		})
	}
}
