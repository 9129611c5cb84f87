package main

import (
	"fmt"
	"math"
	"os"
	"sort"
	"time"
)

// dist summarizes durations in milliseconds.
type dist struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(ds []time.Duration) dist {
	if len(ds) == 0 {
		return dist{}
	}
	ms := make([]float64, len(ds))
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
	}
	sort.Float64s(ms)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ms)))) - 1
		return round2(ms[max(0, min(i, len(ms)-1))])
	}
	return dist{N: len(ms), P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: round2(ms[len(ms)-1])}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func durationsMS(ms []float64) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, v := range ms {
		out[i] = time.Duration(v * float64(time.Millisecond))
	}
	return out
}

// logPhase prints how long a phase took to stderr, so a slow run shows
// where its time went.
func logPhase(name string, d time.Duration) {
	fmt.Fprintf(os.Stderr, "phase %-62s %7.1f s\n", name, d.Seconds())
}
