package main

import (
	"fmt"
	"sort"
	"strings"
)

// Medians and spread for the table: go benchmarks run with -count=N print
// one line per run under the same name; a figure is their median with the
// min–max range, so one noisy run on a shared machine does not decide it.

// spread is the median and range of repeated measurements.
type spread struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// spreadOf summarizes v (zero when empty). The median of an even count is
// the mean of the two middle values.
func spreadOf(v []float64) spread {
	if len(v) == 0 {
		return spread{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{N: len(s), Median: m, Min: s[0], Max: s[len(s)-1]}
}

// benchSpread is one benchmark's runs: ns/op, B/op and allocs/op spreads.
type benchSpread struct {
	Name   string `json:"name"` // without the -GOMAXPROCS suffix
	Ns     spread `json:"ns_per_op"`
	Bytes  spread `json:"bytes_per_op"`
	Allocs spread `json:"allocs_per_op"`
}

// medianSpread groups the benchmarks whose names start with prefix by name
// (the -P suffix dropped) and returns each group's spreads, in the order
// the names first appear.
func medianSpread(bs []goBench, prefix string) []benchSpread {
	var order []string
	runs := map[string][]goBench{}
	for _, b := range bs {
		if !strings.HasPrefix(b.Name, prefix) {
			continue
		}
		n := trimProcs(b.Name)
		if _, ok := runs[n]; !ok {
			order = append(order, n)
		}
		runs[n] = append(runs[n], b)
	}
	out := make([]benchSpread, 0, len(order))
	for _, n := range order {
		var ns, by, al []float64
		for _, b := range runs[n] {
			ns, by, al = append(ns, b.NsPerOp), append(by, b.BytesPerOp), append(al, b.AllocsPerOp)
		}
		out = append(out, benchSpread{Name: n, Ns: spreadOf(ns), Bytes: spreadOf(by), Allocs: spreadOf(al)})
	}
	return out
}

// findSpread is medianSpread's group named exactly name (without -P), or nil.
func findSpread(bs []goBench, name string) *benchSpread {
	for _, s := range medianSpread(bs, name) {
		if s.Name == name {
			return &s
		}
	}
	return nil
}

// findSpreadContaining is the first group under prefix whose name contains
// sub, or nil.
func findSpreadContaining(bs []goBench, prefix, sub string) *benchSpread {
	for _, s := range medianSpread(bs, prefix) {
		if strings.Contains(s.Name, sub) {
			return &s
		}
	}
	return nil
}

// metricSpread is the spread of a benchmark's own metric (b.ReportMetric's
// unit) over the runs of the benchmark named name (without -P).
func metricSpread(bs []goBench, name, metric string) spread {
	var v []float64
	for _, b := range bs {
		if x, ok := b.Metrics[metric]; ok && trimProcs(b.Name) == name {
			v = append(v, x)
		}
	}
	return spreadOf(v)
}

// trimProcs drops the "-2" GOMAXPROCS suffix go test adds to names.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return name
		}
	}
	if i == len(name)-1 {
		return name
	}
	return name[:i]
}

// ms formats a spread of nanoseconds as milliseconds: "12.3 ms
// (11.9–13.0, n=5)", or just the value for one run.
func (s spread) ms() string { return s.format(1e6, "ms", 1) }

// format renders the spread divided by div, with unit and digits decimals.
func (s spread) format(div float64, unit string, digits int) string {
	if s.N == 0 {
		return "not measured"
	}
	v := func(x float64) string { return fmt.Sprintf("%.*f", digits, x/div) }
	if s.N == 1 {
		return v(s.Median) + " " + unit
	}
	return fmt.Sprintf("%s %s (%s–%s, n=%d)", v(s.Median), unit, v(s.Min), v(s.Max), s.N)
}

// percentiles renders a dist as "p50 a / p90 b / p99 c ms (n=N)".
func percentiles(d dist) string {
	return fmt.Sprintf("p50 %.1f / p90 %.1f / p99 %.1f ms (n=%d)", d.P50, d.P90, d.P99, d.N)
}
