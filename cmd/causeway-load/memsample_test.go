package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The memory figure is the largest sample of the whole run; the initial
// sync peak covers startup and sync; steady is the median of the changes.
func TestSummarizeRSS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples []rssSample
		want    rssSummary
	}{
		{"peak during sync", []rssSample{{0, 100, "startup"}, {1, 600, "sync"}, {2, 300, "changes"}, {3, 320, "changes"}, {4, 310, "changes"}},
			rssSummary{MaxMiB: 600, SyncPeakMiB: 600, SteadyMiB: 310, N: 5, IntervalMS: 100}},
		{"peak during changes", []rssSample{{0, 100, "startup"}, {1, 400, "sync"}, {2, 700, "changes"}},
			rssSummary{MaxMiB: 700, SyncPeakMiB: 400, SteadyMiB: 700, N: 3, IntervalMS: 100}},
		{"sync never done", []rssSample{{0, 100, "startup"}, {1, 450, "sync"}},
			rssSummary{MaxMiB: 450, SyncPeakMiB: 450, N: 2, IntervalMS: 100}},
	} {
		if got := summarizeRSS(tc.samples, 100*time.Millisecond); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// The row says when a sample went over the target.
func TestMemoryRowFlagsOverTarget(t *testing.T) {
	for _, tc := range []struct {
		max  float64
		over bool
	}{{511, false}, {513, true}} {
		got := memory(scaleResult{RSS: rssSummary{MaxMiB: tc.max, N: 1, IntervalMS: 100}})
		if strings.Contains(got, "over 512 MiB") != tc.over {
			t.Errorf("max %v MiB: %q", tc.max, got)
		}
	}
}

// The sampler samples a live process from the start, in the phase set.
func TestRSSSamplerSamplesPhases(t *testing.T) {
	s := startRSSSampler(os.Getpid(), 5*time.Millisecond)
	time.Sleep(30 * time.Millisecond)
	s.setPhase("changes")
	time.Sleep(30 * time.Millisecond)
	samples := s.finish()
	phases := map[string]bool{}
	for _, x := range samples {
		if x.MiB <= 0 {
			t.Errorf("sample without RSS: %+v", x)
		}
		phases[x.Phase] = true
	}
	if !phases["startup"] || !phases["changes"] {
		t.Errorf("phases sampled: %v", phases)
	}
}

// Benchmarks' own metrics are read, and the memory benchmarks' rows use them.
func TestMemoryBenchRows(t *testing.T) {
	out := []byte("BenchmarkClassBuildPeakHeap/vds=10000-2   3   3173977235 ns/op   56.36 max-live-above-world-MiB   132.1 peak-above-world-MiB   202.4 peak-heap-MiB   238553181 B/op   2962022 allocs/op\n" +
		"BenchmarkSotwACKBurst/names=10000/clients=500-2   3   1779626424 ns/op   1.756 peak-above-MiB   188010976 B/op   52234 allocs/op\n")
	bs := parseBench(out)
	if len(bs) != 2 || bs[0].Metrics["peak-above-world-MiB"] != 132.1 || bs[0].AllocsPerOp != 2962022 {
		t.Fatalf("parsed %+v", bs)
	}
	rows := memoryBenchRows(bs)
	if len(rows) != 2 || !strings.Contains(rows[0].measured, "peak heap 132 MiB") || !strings.Contains(rows[1].measured, "1.8 MiB") {
		t.Errorf("rows %+v", rows)
	}
	// -count 3: one row per benchmark, the median and range of its runs.
	out = append(out, []byte("BenchmarkSotwACKBurst/names=10000/clients=500-2   3   1779626424 ns/op   1.5 peak-above-MiB\n"+
		"BenchmarkSotwACKBurst/names=10000/clients=500-2   3   1779626424 ns/op   1.6 peak-above-MiB\n")...)
	rows = memoryBenchRows(parseBench(out))
	if len(rows) != 2 || !strings.Contains(rows[1].measured, "1.6 MiB (1.5–1.8, n=3)") {
		t.Errorf("rows of three runs %+v", rows)
	}
}
