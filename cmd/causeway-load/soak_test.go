package main

import (
	"bufio"
	"bytes"
	"context"
	"hash/maphash"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
)

// series samples fn every 5 s for n samples.
func series(n int, fn func(t float64) float64) (ts, vs []float64) {
	for i := range n {
		t := float64(i * 5)
		ts, vs = append(ts, t), append(vs, fn(t))
	}
	return ts, vs
}

func TestFlatness(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		fn     func(t float64) float64
		warmup float64
		want   flatness
	}{
		{"flat", 12, func(float64) float64 { return 100 }, 0,
			flatness{Start: 100, End: 100, Max: 100, FirstThird: 100, LastThird: 100, N: 12}},
		// 1 per second: 60 per minute; thirds of 0..55 are 0,5,10,15 and 40,45,50,55.
		{"growing", 12, func(t float64) float64 { return t }, 0,
			flatness{Start: 0, End: 55, Max: 55, SlopePerMin: 60, FirstThird: 7.5, LastThird: 47.5, Growth: 5.3333, N: 12}},
		{"shrinking", 12, func(t float64) float64 { return 200 - t }, 0,
			flatness{Start: 200, End: 145, Max: 200, SlopePerMin: -60, FirstThird: 192.5, LastThird: 152.5, Growth: -0.2078, N: 12}},
		// A warm-up ramp to 100 by 20 s, flat after: flat once left out,
		// but Start and Max still show it.
		{"warm-up left out", 16, func(t float64) float64 {
			if t < 20 {
				return 50 + 2.5*t + 30*float64(int(t)%10/5) // ramp with a spike
			}
			return 100
		}, 20, flatness{Start: 50, End: 100, Max: 117.5, FirstThird: 100, LastThird: 100, N: 12}},
		// Alternating 110/90 from 110: no growth; the slope is
		// Σ(t−t̄)(v−v̄)/Σ(t−t̄)² = 5·10·Σi(−1)^i / (25·Σ(i−5.5)²)
		// = 50·(−6)/(25·143) per s = −5.03 per minute.
		{"noise", 12, func(t float64) float64 { return 100 + 10*float64(1-2*(int(t)/5%2)) }, 0,
			flatness{Start: 110, End: 90, Max: 110, SlopePerMin: -5.03, FirstThird: 100, LastThird: 100, N: 12}},
		// An episode of twice the memory for a quarter of the first third
		// leaves its median: no growth. Slope: 200·((10−57.5)+(15−57.5))
		// / (25·24·(24²−1)/12) per s = −37.57 per minute.
		{"episode", 24, func(t float64) float64 {
			if t >= 10 && t < 20 {
				return 400
			}
			return 200
		}, 0, flatness{Start: 200, End: 200, Max: 400, SlopePerMin: -37.57, FirstThird: 200, LastThird: 200, N: 24}},
		// Median of an even count: the mean of the middle two. Slope:
		// (Σtv − t̄Σv)/Σ(t−t̄)² = (325 − 12.5·22)/437.5 per s = 6.86 per minute.
		{"medians", 6, func(t float64) float64 { return []float64{1, 9, 0, 0, 4, 8}[int(t)/5] }, 0,
			flatness{Start: 1, End: 8, Max: 9, SlopePerMin: 6.86, FirstThird: 5, LastThird: 6, Growth: 0.2, N: 6}},
		{"too few for thirds", 5, func(t float64) float64 { return t }, 0,
			flatness{Start: 0, End: 20, Max: 20, SlopePerMin: 60, N: 5}},
		{"one sample", 1, func(float64) float64 { return 7 }, 0, flatness{Start: 7, End: 7, Max: 7, N: 1}},
		{"none", 0, nil, 0, flatness{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, vs := series(tc.n, tc.fn)
			if d := cmp.Diff(tc.want, flatnessOf(ts, vs, tc.warmup)); d != "" {
				t.Errorf("-want +got:\n%s", d)
			}
		})
	}
}

func TestSoakFailures(t *testing.T) {
	ok := func() *soakResult {
		return &soakResult{Clients: 10, AtFinal: 10, Changes: 100, GoroutinesPostSync: 2000, GoroutinesEnd: 2000,
			RSS: flatness{N: 12, FirstThird: 100, LastThird: 110, Growth: 0.1}}
	}
	for _, tc := range []struct {
		name   string
		change func(*soakResult)
		want   []string // substrings of the failures, in order
	}{
		{"passes", func(*soakResult) {}, nil},
		{"client behind", func(s *soakResult) { s.AtFinal = 9 }, []string{"1 of 10 clients not at the final version"}},
		{"client failed", func(s *soakResult) { s.ClientErrors, s.FirstClientError = 2, "EOF" }, []string{"2 client streams failed (first: EOF)"}},
		{"no change", func(s *soakResult) { s.Changes = 0 }, []string{"no endpoint change"}},
		// 5% of 2,000 is 100, more than the slack of 50.
		{"goroutines at the bound", func(s *soakResult) { s.GoroutinesEnd = 2100 }, nil},
		{"goroutines over the bound", func(s *soakResult) { s.GoroutinesEnd = 2101 }, []string{"2101 goroutines after the soak, more than 2100"}},
		// 5% of 100 is 5, less than the slack of 50.
		{"slack for few goroutines", func(s *soakResult) { s.GoroutinesPostSync, s.GoroutinesEnd = 100, 150 }, nil},
		{"over the slack", func(s *soakResult) { s.GoroutinesPostSync, s.GoroutinesEnd = 100, 151 }, []string{"more than 150"}},
		{"fewer goroutines", func(s *soakResult) { s.GoroutinesEnd = 1000 }, nil},
		{"memory grew", func(s *soakResult) { s.RSS.LastThird, s.RSS.Growth = 125, 0.25 }, []string{"RSS grew 25%"}},
		{"memory grew, too few samples", func(s *soakResult) { s.RSS.N, s.RSS.Growth = 5, 0.5 }, nil},
		{"everything", func(s *soakResult) { s.AtFinal, s.GoroutinesEnd, s.RSS.Growth = 0, 5000, 1 }, []string{"clients", "goroutines", "RSS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.change(s)
			got := soakFailures(s)
			if len(got) != len(tc.want) {
				t.Fatalf("failures %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("failure %d %q does not say %q", i, got[i], w)
				}
			}
		})
	}
}

func TestWritePlan(t *testing.T) {
	for _, tc := range []struct {
		rate     int
		interval string
		per      int
		every    string
	}{
		{100, "250ms", 25, "250ms"},
		{100, "100ms", 10, "100ms"},
		{3, "100ms", 1, "333.333333ms"},
		{40, "1s", 40, "1s"},
	} {
		iv, _ := time.ParseDuration(tc.interval)
		per, every := writePlan(tc.rate, iv)
		if per != tc.per || every.String() != tc.every {
			t.Errorf("writePlan(%d, %s) = %d, %v; want %d, %s", tc.rate, tc.interval, per, every, tc.per, tc.every)
		}
	}
}

// TestChangeOrder: any vds × eps consecutive changes toggle every endpoint
// once, so the changes of one write are distinct.
func TestChangeOrder(t *testing.T) {
	for _, size := range [][2]int{{1000, 10}, {7919, 1}, {3, 4}, {1, 1}} {
		next, total := changeOrder(size[0], size[1]), size[0]*size[1]
		for _, from := range []int{0, 5, total + 3} {
			seen := map[endpointRef]bool{}
			for k := from; k < from+total; k++ {
				e := next(k)
				if e.vd < 0 || e.vd >= size[0] || e.ep < 0 || e.ep >= size[1] || seen[e] {
					t.Fatalf("%v from %d: change %d is %v (out of range or repeated)", size, from, k, e)
				}
				seen[e] = true
			}
		}
	}
}

// TestWorldRenderer: re-rendering only the changed VirtualDestinations
// gives the world generateWorld renders.
func TestWorldRenderer(t *testing.T) {
	w := newWorldRenderer(worldSpec{vds: 30, eps: 4, down: map[endpointRef]bool{}})
	if !bytes.Equal(w.render(), generateWorld(worldSpec{vds: 30, eps: 4})) {
		t.Fatal("first rendering differs")
	}
	next := changeOrder(30, 4)
	for k := range 50 {
		w.toggle(next(k))
		if k%7 == 0 {
			w.render()
		}
	}
	want := generateWorld(worldSpec{vds: 30, eps: 4, down: w.spec.down})
	if got := w.render(); !bytes.Equal(got, want) {
		t.Fatalf("after 50 changes: %d bytes, want %d", len(got), len(want))
	}
	if !bytes.Contains(want, []byte(`"ready":false`)) {
		t.Fatal("no endpoint is not ready")
	}
}

func TestParseMetrics(t *testing.T) {
	text := "# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 5016\n" +
		"go_memstats_heap_inuse_bytes 6.7108864e+07\n" + reloadsOK + " 21\n\n"
	m, err := parseMetrics(bufio.NewScanner(strings.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"go_goroutines": 5016, "go_memstats_heap_inuse_bytes": 64 << 20, reloadsOK: 21}
	if d := cmp.Diff(want, m); d != "" {
		t.Errorf("-want +got:\n%s", d)
	}
}

// cla is VirtualDestination i's load assignment with the first cluster's
// endpoints healthy unless down.
func cla(t *testing.T, spec worldSpec, i int) []byte {
	m := &endpointv3.ClusterLoadAssignment{ClusterName: edsName(i), Endpoints: []*endpointv3.LocalityLbEndpoints{{}}}
	for e := range spec.eps {
		h := corev3.HealthStatus_HEALTHY
		if spec.down[endpointRef{i, e}] {
			h = corev3.HealthStatus_UNHEALTHY
		}
		m.Endpoints[0].LbEndpoints = append(m.Endpoints[0].LbEndpoints, &endpointv3.LbEndpoint{HealthStatus: h,
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
				SocketAddress: &corev3.SocketAddress{Address: endpointAddress(0, i, e), PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80}}}}}}})
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliver has client c ACK an EDS response of version with the
// assignments of VirtualDestinations vds of spec.
func deliver(t *testing.T, c *adsClient, version string, spec worldSpec, vds ...int) {
	c.in = reply{header: header{typeURL: resourcev3.EndpointType, version: version}}
	for _, i := range vds {
		c.trackEDS(cla(t, spec, i))
	}
	c.acked()
}

// TestWaitFinal: clients count as final when the references hold the
// final endpoints and they hold what the references hold, under the same
// versions; merged partial responses count as Envoy merges them.
func TestWaitFinal(t *testing.T) {
	before := worldSpec{vds: 4, eps: 3, down: map[endpointRef]bool{}}
	final := worldSpec{vds: 4, eps: 3, down: map[endpointRef]bool{{1, 2}: true, {3, 0}: true}}
	all := []int{0, 1, 2, 3}
	newFleet := func(k int) *fleet {
		f := &fleet{seed: maphash.MakeSeed()}
		for i := range k {
			f.clients = append(f.clients, &adsClient{f: f, id: i, delta: i%2 == 1, view: newEDSView(i < 2)})
		}
		for _, c := range f.clients {
			c.in = reply{header: header{typeURL: resourcev3.ClusterType, version: "c1"}}
			c.acked()
			deliver(t, c, "e1", before, all...)
		}
		return f
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, f *fleet)
		want  int
	}{
		{"all final", func(t *testing.T, f *fleet) {
			for _, c := range f.clients {
				deliver(t, c, "e2", final, 1, 3) // the changed ones only
			}
		}, 5},
		{"one client stale", func(t *testing.T, f *fleet) {
			for _, c := range f.clients[:4] {
				deliver(t, c, "e2", final, 1, 3)
			}
		}, 4},
		{"one client missing one change", func(t *testing.T, f *fleet) {
			for _, c := range f.clients {
				deliver(t, c, "e2", final, 1, 3)
			}
			deliver(t, f.clients[4], "e2", before, 3)
		}, 4},
		{"same content, other version", func(t *testing.T, f *fleet) {
			for _, c := range f.clients {
				deliver(t, c, "e2", final, 1, 3)
			}
			deliver(t, f.clients[2], "e3", final, 1)
		}, 4},
		{"removed in delta", func(t *testing.T, f *fleet) {
			for _, c := range f.clients {
				deliver(t, c, "e2", final, 1, 3)
			}
			c := f.clients[3]
			c.in = reply{header: header{typeURL: resourcev3.EndpointType, version: "e2"}, removed: []int32{f.names.id([]byte(edsName(0)))}}
			c.acked()
		}, 4},
		{"reconnected, not yet synced again", func(t *testing.T, f *fleet) {
			for _, c := range f.clients {
				deliver(t, c, "e2", final, 1, 3)
			}
			f.clients[2].resetStream()
			deliver(t, f.clients[2], "e2", final, 1, 3)
		}, 4},
		{"reconnected and synced again", func(t *testing.T, f *fleet) {
			for _, c := range f.clients {
				deliver(t, c, "e2", final, 1, 3)
			}
			for _, c := range f.clients[:2] {
				c.resetStream()
				c.in = reply{header: header{typeURL: resourcev3.ClusterType, version: "c1"}}
				c.acked()
				deliver(t, c, "e2", final, all...)
			}
		}, 5},
		{"reference not final", func(t *testing.T, f *fleet) {
			for _, c := range f.clients {
				deliver(t, c, "e2", final, 1)
			}
		}, 0},
		{"delta reference not final", func(t *testing.T, f *fleet) {
			for _, c := range f.clients {
				if c.id != 1 {
					deliver(t, c, "e2", final, 1, 3)
				}
			}
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleet(5)
			tc.setup(t, f)
			if n, _, eds := f.waitFinal(ctx, final, 0); n != tc.want {
				t.Errorf("%d clients final (EDS version %q), want %d", n, eds, tc.want)
			}
		})
	}
}
