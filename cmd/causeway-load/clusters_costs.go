package main

import (
	"fmt"
)

// Costs derived from the many-clusters run, and projections to larger
// fleets: memory is a straight line fitted through serve with the
// management cluster only and after each step; sync CPU and initial API
// traffic are per-cluster averages. Every workload cluster has the same
// shape (S Services of E endpoints), so per-Service and per-endpoint
// figures divide the per-cluster cost: a Service's figure includes its
// EndpointSlice, and the per-endpoint one charges everything to endpoints
// (an upper bound).

type clusterCosts struct {
	RSSBaseMiB        float64 `json:"rss_base_mib"`
	RSSPerClusterMiB  float64 `json:"rss_per_cluster_mib"`
	HeapBaseMiB       float64 `json:"heap_base_mib"`
	HeapPerClusterMiB float64 `json:"heap_per_cluster_mib"`
	HeapPerServiceKiB float64 `json:"heap_per_service_kib"`
	HeapPerEndpointB  float64 `json:"heap_per_endpoint_bytes"`
	// SyncCPUPerClusterSec is serve's CPU over every step divided by the
	// clusters added.
	SyncCPUPerClusterSec float64 `json:"sync_cpu_per_cluster_seconds"`
	// SyncSec is the spread of the clusters' own sync times.
	SyncSec spread `json:"sync_seconds"`
	// InitialBytes is the spread of one cluster's initial-sync API traffic
	// (LIST and watch bytes).
	InitialBytes    spread  `json:"initial_sync_bytes"`
	BytesPerService float64 `json:"initial_sync_bytes_per_service"`
	IdleCPUPct      float64 `json:"idle_cpu_percent_at_largest"`
	Services        int     `json:"services_per_cluster"`
	EndpointsPerSvc int     `json:"endpoints_per_service"`
	LargestClusters int     `json:"largest_clusters"`
}

// fitLine is the least-squares line through (x, y): y = a + b·x.
func fitLine(x, y []float64) (a, b float64) {
	n := float64(len(x))
	if len(x) == 0 || len(x) != len(y) {
		return 0, 0
	}
	var sx, sy float64
	for i := range x {
		sx, sy = sx+x[i], sy+y[i]
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	if sxx == 0 {
		return my, 0
	}
	b = sxy / sxx
	return my - b*mx, b
}

// deriveCosts computes the costs from a run's steps (nil without steps).
func deriveCosts(r *clustersResult) *clusterCosts {
	if len(r.Steps) == 0 {
		return nil
	}
	xs := []float64{0}
	rss, heap := []float64{r.ServeBaseRSSMiB}, []float64{r.ServeBaseHeapMiB}
	var cpu float64
	for _, s := range r.Steps {
		xs, rss, heap = append(xs, float64(s.Clusters)), append(rss, s.RSSMiB), append(heap, s.HeapMiB)
		cpu += s.CPUSec
	}
	last := r.Steps[len(r.Steps)-1]
	k := &clusterCosts{Services: r.ServicesPerCluster, EndpointsPerSvc: r.EndpointsPerService, LargestClusters: last.Clusters, IdleCPUPct: last.IdleCPUPct}
	k.RSSBaseMiB, k.RSSPerClusterMiB = fitLine(xs, rss)
	k.HeapBaseMiB, k.HeapPerClusterMiB = fitLine(xs, heap)
	if r.ServicesPerCluster > 0 {
		k.HeapPerServiceKiB = k.HeapPerClusterMiB * 1024 / float64(r.ServicesPerCluster)
		if r.EndpointsPerService > 0 {
			k.HeapPerEndpointB = k.HeapPerClusterMiB * (1 << 20) / float64(r.ServicesPerCluster*r.EndpointsPerService)
		}
	}
	if last.Clusters > 0 {
		k.SyncCPUPerClusterSec = cpu / float64(last.Clusters)
	}
	var syncs, bytes []float64
	for _, c := range r.PerCluster {
		syncs, bytes = append(syncs, c.SyncSec), append(bytes, c.ListBytes+c.WatchBytes)
	}
	k.SyncSec, k.InitialBytes = spreadOf(syncs), spreadOf(bytes)
	if r.ServicesPerCluster > 0 {
		k.BytesPerService = k.InitialBytes.Median / float64(r.ServicesPerCluster)
	}
	return k
}

// projection is one fleet size's expected cost for one Causeway replica.
type projection struct {
	Clusters  int     `json:"clusters"`
	Services  int     `json:"services"`
	Endpoints int     `json:"endpoints"`
	RSSMiB    float64 `json:"rss_mib"`
	HeapMiB   float64 `json:"heap_live_mib"`
	// SyncCPUSec is serve's CPU for the initial sync of every cluster;
	// InitialBytes what the API servers send it for that sync.
	SyncCPUSec   float64 `json:"sync_cpu_seconds"`
	InitialBytes float64 `json:"initial_sync_bytes"`
	Arithmetic   string  `json:"arithmetic"`
}

// project extrapolates the costs linearly to each fleet size.
func project(r *clustersResult, sizes []int) []projection {
	k := deriveCosts(r)
	if k == nil {
		return nil
	}
	var out []projection
	for _, n := range sizes {
		f := float64(n)
		p := projection{Clusters: n, Services: n * k.Services, Endpoints: n * k.Services * k.EndpointsPerSvc,
			RSSMiB: k.RSSBaseMiB + f*k.RSSPerClusterMiB, HeapMiB: k.HeapBaseMiB + f*k.HeapPerClusterMiB,
			SyncCPUSec: f * k.SyncCPUPerClusterSec, InitialBytes: f * k.InitialBytes.Median}
		p.Arithmetic = fmt.Sprintf("RSS %.0f + %d × %.1f = %.0f MiB; live heap %.0f + %d × %.1f = %.0f MiB; sync CPU %d × %.2f s = %.0f s; initial API traffic %d × %.1f MiB = %.0f MiB",
			k.RSSBaseMiB, n, k.RSSPerClusterMiB, p.RSSMiB, k.HeapBaseMiB, n, k.HeapPerClusterMiB, p.HeapMiB,
			n, k.SyncCPUPerClusterSec, p.SyncCPUSec, n, k.InitialBytes.Median/(1<<20), p.InitialBytes/(1<<20))
		out = append(out, p)
	}
	return out
}
