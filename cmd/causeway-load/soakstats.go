package main

import (
	"fmt"
	"math"
	"sort"
)

// The soak's verdicts, as pure functions of its samples.

// flatness describes a series sampled over the soak: Start is its first
// sample (after the initial sync, before any change), End its last while
// changes were made, Max the largest; the slope (least squares, per
// minute) and the medians of the first and last third are over the
// samples after the warm-up. Medians, not means: serve's memory under
// churn has episodes (a burst of pushes to lagging clients) that double it
// for a minute and pass; growth is a baseline that rises.
type flatness struct {
	Start       float64 `json:"start"`
	End         float64 `json:"end"`
	Max         float64 `json:"max"`
	SlopePerMin float64 `json:"slope_per_min"`
	FirstThird  float64 `json:"first_third_median"`
	LastThird   float64 `json:"last_third_median"`
	// Growth is LastThird/FirstThird − 1.
	Growth float64 `json:"growth"`
	// N is the number of samples after the warm-up.
	N int `json:"samples_after_warmup"`
}

// minThirdsSamples is the fewest samples after the warm-up from which the
// thirds are compared (two per third).
const minThirdsSamples = 6

// flatnessOf summarizes values vs sampled at ts (seconds from the start).
func flatnessOf(ts, vs []float64, warmup float64) flatness {
	var f flatness
	if len(vs) == 0 {
		return f
	}
	f.Start, f.End, f.Max = vs[0], vs[len(vs)-1], vs[0]
	var wt, wv []float64
	for i, v := range vs {
		f.Max = math.Max(f.Max, v)
		if ts[i] >= warmup {
			wt, wv = append(wt, ts[i]), append(wv, v)
		}
	}
	f.N = len(wv)
	f.SlopePerMin = round2(slope(wt, wv) * 60)
	if f.N >= minThirdsSamples {
		k := f.N / 3
		f.FirstThird, f.LastThird = round2(middle(wv[:k])), round2(middle(wv[f.N-k:]))
		if f.FirstThird > 0 {
			f.Growth = math.Round((f.LastThird/f.FirstThird-1)*1e4) / 1e4
		}
	}
	return f
}

// slope is the least-squares slope of vs against ts (0 for fewer than two
// distinct times).
func slope(ts, vs []float64) float64 {
	if len(ts) < 2 {
		return 0
	}
	mt, mv := mean(ts), mean(vs)
	var num, den float64
	for i := range ts {
		num += (ts[i] - mt) * (vs[i] - mv)
		den += (ts[i] - mt) * (ts[i] - mt)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// middle is the median of v (the mean of the middle two of an even count).
func middle(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// The soak's bounds.
const (
	// goroutineGrowth and goroutineSlack: serve's goroutines after the
	// soak may exceed those after the initial sync by 5% or 50,
	// whichever is more.
	goroutineGrowth = 0.05
	goroutineSlack  = 50
	// rssGrowth is the largest growth of RSS from the first to the last
	// third of the soak (after the warm-up), in medians: gross growth, not
	// noise.
	rssGrowth = 0.20
)

// goroutineBound is the most goroutines serve may have after the soak.
func goroutineBound(postSync int) int {
	return postSync + max(int(math.Ceil(goroutineGrowth*float64(postSync))), goroutineSlack)
}

// soakFailures lists what fails the soak.
func soakFailures(s *soakResult) []string {
	var out []string
	if s.Changes == 0 {
		out = append(out, "no endpoint change was made")
	}
	if s.AtFinal < s.Clients {
		out = append(out, fmt.Sprintf("%d of %d clients not at the final version %.1f s after the last change", s.Clients-s.AtFinal, s.Clients, s.FinalSec))
	}
	if s.ClientErrors > 0 {
		out = append(out, fmt.Sprintf("%d client streams failed (first: %s)", s.ClientErrors, s.FirstClientError))
	}
	if s.GoroutinesEnd > goroutineBound(s.GoroutinesPostSync) {
		out = append(out, fmt.Sprintf("serve has %d goroutines after the soak, more than %d (%d after the initial sync + max(%.0f%%, %d))",
			s.GoroutinesEnd, goroutineBound(s.GoroutinesPostSync), s.GoroutinesPostSync, goroutineGrowth*100, goroutineSlack))
	}
	if s.RSS.N >= minThirdsSamples && s.RSS.Growth > rssGrowth {
		out = append(out, fmt.Sprintf("the median of serve's RSS grew %.0f%% from the first to the last third of the soak (%.0f → %.0f MiB; bound %.0f%%)",
			s.RSS.Growth*100, s.RSS.FirstThird, s.RSS.LastThird, rssGrowth*100))
	}
	return out
}
