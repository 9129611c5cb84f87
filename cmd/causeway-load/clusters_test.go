package main

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestFitLine(t *testing.T) {
	for _, tc := range []struct {
		name       string
		x, y       []float64
		wantA, wan float64
	}{
		{"exact", []float64{0, 1, 5, 10}, []float64{50, 53, 65, 80}, 50, 3},
		{"noisy symmetric", []float64{0, 1, 2}, []float64{1, 2, 5}, 2 / 3.0, 2},
		{"one x", []float64{4, 4}, []float64{1, 3}, 2, 0},
		{"empty", nil, nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := fitLine(tc.x, tc.y)
			if math.Abs(a-tc.wantA) > 1e-9 || math.Abs(b-tc.wan) > 1e-9 {
				t.Errorf("fitLine = %v + %v·x, want %v + %v·x", a, b, tc.wantA, tc.wan)
			}
		})
	}
}

// linearRun is a made-up run whose memory grows by exactly 4 MiB RSS and 2 MiB
// live heap per cluster.
func linearRun() *clustersResult {
	r := &clustersResult{Clusters: 10, ServicesPerCluster: 500, EndpointsPerService: 10, Clients: 1000,
		ServeBaseRSSMiB: 60, ServeBaseHeapMiB: 10}
	for _, n := range []int{1, 5, 10} {
		r.Steps = append(r.Steps, clusterStep{Clusters: n, RSSMiB: 60 + 4*float64(n), HeapMiB: 10 + 2*float64(n), CPUSec: float64(n), IdleCPUPct: 0.5})
	}
	for c := 0; c < 10; c++ {
		r.PerCluster = append(r.PerCluster, clusterSync{Name: clusterName(c), SyncSec: float64(c + 1), ListBytes: 1 << 20, WatchBytes: 1 << 19})
	}
	return r
}

func TestDeriveCosts(t *testing.T) {
	k := deriveCosts(linearRun())
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"RSS base", k.RSSBaseMiB, 60}, {"RSS per cluster", k.RSSPerClusterMiB, 4},
		{"heap per cluster", k.HeapPerClusterMiB, 2}, {"heap per Service KiB", k.HeapPerServiceKiB, 2 * 1024 / 500.0},
		{"heap per endpoint B", k.HeapPerEndpointB, 2 * (1 << 20) / 5000.0},
		// CPU 1+5+10 over 10 clusters.
		{"sync CPU per cluster", k.SyncCPUPerClusterSec, 1.6},
		{"sync median", k.SyncSec.Median, 5.5}, {"sync max", k.SyncSec.Max, 10},
		{"initial bytes", k.InitialBytes.Median, 1.5 * (1 << 20)}, {"bytes per Service", k.BytesPerService, 1.5 * (1 << 20) / 500},
		{"idle CPU", k.IdleCPUPct, 0.5},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if deriveCosts(&clustersResult{}) != nil {
		t.Error("costs of a run without steps, want nil")
	}
}

func TestProject(t *testing.T) {
	ps := project(linearRun(), []int{100, 500})
	if len(ps) != 2 {
		t.Fatalf("%d projections, want 2", len(ps))
	}
	p := ps[1]
	if p.Clusters != 500 || p.Services != 250000 || p.Endpoints != 2500000 {
		t.Errorf("size %d clusters, %d Services, %d endpoints", p.Clusters, p.Services, p.Endpoints)
	}
	if p.RSSMiB != 60+500*4 || p.HeapMiB != 10+500*2 || math.Abs(p.SyncCPUSec-800) > 1e-9 || p.InitialBytes != 500*1.5*(1<<20) {
		t.Errorf("projection %+v", p)
	}
	for _, want := range []string{"RSS 60 + 500 × 4.0 = 2060 MiB", "live heap 10 + 500 × 2.0 = 1010 MiB", "sync CPU 500 × 1.60 s = 800 s", "500 × 1.5 MiB = 750 MiB"} {
		if !strings.Contains(p.Arithmetic, want) {
			t.Errorf("arithmetic %q lacks %q", p.Arithmetic, want)
		}
	}
}

func TestParseSteps(t *testing.T) {
	for _, tc := range []struct {
		in    string
		count int
		want  []int
		bad   bool
	}{
		{"1,5,10,20", 20, []int{1, 5, 10, 20}, false},
		{"1,5,10,20", 8, []int{1, 5, 8}, false},
		{"", 3, []int{3}, false},
		{"5,1", 20, nil, true},
		{"0", 20, nil, true},
		{"x", 20, nil, true},
	} {
		got, err := parseSteps(tc.in, tc.count)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("parseSteps(%q, %d) = %v, %v; want %v (error %v)", tc.in, tc.count, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// utime 250 and stime 50 ticks; the command holds a space and a ')'.
	stat := "1234 (cause way)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 100 1000 10"
	got, err := parseStatCPU(stat)
	if err != nil || got != 3 {
		t.Errorf("parseStatCPU = %v, %v; want 3 s", got, err)
	}
	if _, err := parseStatCPU("1234 (x) S 1"); err == nil {
		t.Error("short stat accepted")
	}
}

func TestTrafficOf(t *testing.T) {
	m := map[string]float64{
		`apiserver_response_sizes_sum{component="apiserver",resource="services",verb="LIST",version="v1"}`:                   100,
		`apiserver_response_sizes_sum{component="apiserver",group="discovery.k8s.io",resource="endpointslices",verb="LIST"}`: 200,
		`apiserver_response_sizes_sum{component="apiserver",resource="services",verb="GET",version="v1"}`:                    1000,
		`apiserver_watch_events_sizes_sum{group="",kind="Service",version="v1"}`:                                             7,
		`apiserver_watch_events_sizes_count{group="",kind="Service",version="v1"}`:                                           99,
	}
	if got := trafficOf(m); got != (traffic{list: 300, watch: 7}) {
		t.Errorf("trafficOf = %+v, want list 300 watch 7", got)
	}
}

func TestClustersRows(t *testing.T) {
	if rows := clustersRows(nil); len(rows) != 1 || !strings.Contains(rows[0].measured, "not measured") {
		t.Errorf("rows without a run: %+v", rows)
	}
	r := linearRun()
	r.Costs, r.Projections = deriveCosts(r), project(r, []int{100, 500})
	r.Convergence = dist{N: 3000, P50: 60, P90: 80, P99: 120}
	r.BeyondDebounceP99 = beyondDebounce(r.Convergence)
	r.PerChangeP99, r.ChangedClusters = []float64{100, 120, 110}, []string{"c3", "c1", "c7"}
	r.Widen = &widenResult{Clusters: 2, EndpointsAdded: 10000, HeapBeforeMiB: 30, HeapAfterMiB: 40, HeapRestoredMiB: 30.5, PerEndpointB: 1048.58, PerServiceKiB: 2.1}
	rows := clustersRows(r)
	all := ""
	for _, x := range rows {
		all += x.figure + " | " + x.target + " | " + x.measured + "\n"
	}
	for _, want := range []string{
		"10 workload clusters × 500 Services × 10 endpoints: initial sync",
		"per cluster 5.50 s (1.00–10.00, n=10)", "RSS at 0/1/5/10 clusters: 60/64/80/100 MiB → 4.0 MiB per cluster",
		"beyond debounce: p99 70.0 ms", "p50 60.0 / p90 80.0 / p99 120.0 ms (n=3000) over 3 changes in clusters c3,c1,c7",
		"30.0 → 40.0 → 30.5 MiB when 10000 endpoints were added to the Services of 2 clusters and removed again: 1049 B per endpoint; a Service without its endpoints 2.1 KiB",
		"projection: 500 clusters (250000 Services, 2500000 endpoints)", "p99 ≤ 250 ms beyond debounce",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("rows lack %q:\n%s", want, all)
		}
	}
}
