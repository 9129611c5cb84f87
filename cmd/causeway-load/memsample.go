package main

import (
	"sync"
	"time"
)

// Sampling serve's RSS through a world-file run, from its start (world
// load, initial sync included) to the end, so the memory figure is the
// largest sample, not one taken at a quiet moment.

// rssSample is serve's VmRSS at T seconds after start, in the run's phase
// then: "startup" (until /readyz), "sync" (until every client holds the
// first full configuration) or "changes".
type rssSample struct {
	T     float64 `json:"t"`
	MiB   float64 `json:"mib"`
	Phase string  `json:"phase"`
}

// rssSampler reads VmRSS every interval on a goroutine of its own.
type rssSampler struct {
	mu      sync.Mutex
	phase   string
	samples []rssSample
	stop    chan struct{}
	done    chan struct{}
}

func startRSSSampler(pid int, interval time.Duration) *rssSampler {
	s := &rssSampler{phase: "startup", stop: make(chan struct{}), done: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if mib, err := procStatus(pid, "VmRSS"); err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, rssSample{T: round2(time.Since(start).Seconds()), MiB: round2(mib), Phase: s.phase})
				s.mu.Unlock()
			}
			select {
			case <-tick.C:
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

func (s *rssSampler) setPhase(p string) {
	s.mu.Lock()
	s.phase = p
	s.mu.Unlock()
}

// finish stops sampling and returns the samples.
func (s *rssSampler) finish() []rssSample {
	close(s.stop)
	<-s.done
	return s.samples
}

// rssSummary is what a run's samples say: the largest sample, the largest
// until the initial sync was done (startup and sync), the median of the
// samples during the changes (steady state), and how many were taken how
// often.
type rssSummary struct {
	MaxMiB      float64 `json:"max_sample_mib"`
	SyncPeakMiB float64 `json:"sync_peak_mib"`
	SteadyMiB   float64 `json:"steady_median_mib"`
	N           int     `json:"n"`
	IntervalMS  float64 `json:"interval_ms"`
}

func summarizeRSS(samples []rssSample, interval time.Duration) rssSummary {
	sum := rssSummary{N: len(samples), IntervalMS: float64(interval) / float64(time.Millisecond)}
	var steady []float64
	for _, x := range samples {
		sum.MaxMiB = max(sum.MaxMiB, x.MiB)
		if x.Phase == "changes" {
			steady = append(steady, x.MiB)
		} else {
			sum.SyncPeakMiB = max(sum.SyncPeakMiB, x.MiB)
		}
	}
	if len(steady) > 0 {
		sum.SteadyMiB = median(steady)
	}
	return sum
}
