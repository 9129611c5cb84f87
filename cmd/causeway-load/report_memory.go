package main

import "fmt"

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
