package main

import (
	"fmt"
)

// memoryTarget is the memory row's target (issue 14): every RSS sample,
// from serve's start through the initial sync and the changes, without
// GOMEMLIMIT.
const memoryTarget = "RSS ≤ 512 MiB at every sample, initial sync included (at 10k/300k/1k, no GOMEMLIMIT)"

// memory is a scale's RSS: the largest sample, the largest until the
// initial sync was done, the median during the changes and the kernel's
// high-water mark, and with GOMEMLIMIT if it was also served so.
func memory(s scaleResult) string {
	m := fmt.Sprintf("max sample %.0f MiB (initial sync peak %.0f, steady %.0f; %d samples every %.0f ms; VmHWM %.0f MiB)",
		s.RSS.MaxMiB, s.RSS.SyncPeakMiB, s.RSS.SteadyMiB, s.RSS.N, s.RSS.IntervalMS, s.PeakRSSMiB)
	if s.RSS.MaxMiB > memoryLimitMiB {
		m += fmt.Sprintf(" — over %d MiB", memoryLimitMiB)
	}
	l := s.Limited
	switch {
	case l == nil:
		return m
	case l.Convergence.N == 0 && l.RSSMiB == 0:
		return fmt.Sprintf("no limit: %s; GOMEMLIMIT=%s not measured: %s", m, l.GoMemLimit, l.Error)
	}
	m = fmt.Sprintf("no limit: %s; GOMEMLIMIT=%s: max sample %.0f MiB (VmHWM %.0f MiB; initial sync %.0f s, convergence p99 %.0f ms)",
		m, l.GoMemLimit, l.MaxSampleMiB, l.PeakRSSMiB, l.SyncSec, l.Convergence.P99)
	if l.Error != "" {
		m += "; " + l.Error
	}
	return m
}

// memoryLimitMiB is the target's bound.
const memoryLimitMiB = 512

// memoryBenchRows are the in-process figures behind the memory row (xds
// benchmarks): the heap while a 10k class is built, and what decoding a
// burst of full-list state-of-the-world ACKs adds to the requests gRPC
// holds.
func memoryBenchRows(bs []goBench) []row {
	var rows []row
	if b := findSpreadContaining(bs, "BenchmarkClassBuildPeakHeap/", "vds=10000"); b != nil {
		peak, live := metricSpread(bs, b.Name, "peak-above-world-MiB"), metricSpread(bs, b.Name, "max-live-above-world-MiB")
		if peak.N > 0 {
			rows = append(rows, row{"memory: building a 10k-VD class, in process (" + b.Name + ")", "translated messages not all alive at once",
				fmt.Sprintf("peak heap %s above the world, largest live heap %s above it", peak.format(1, "MiB", 0), live.format(1, "MiB", 0))})
		}
	}
	for _, b := range medianSpread(bs, "BenchmarkSotwACKBurst/") {
		if above := metricSpread(bs, b.Name, "peak-above-MiB"); above.N > 0 {
			rows = append(rows, row{"memory: burst of full-list sotw ACKs decoded at once, in process (" + b.Name + ")", "no copy per request",
				above.format(1, "MiB", 1) + " above the received requests"})
		}
	}
	return rows
}
