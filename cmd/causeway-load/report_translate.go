package main

import (
	"fmt"
	"strings"
)

// translateTargets are issue 14's for offline translate (30k routes,
// whole process) and the growth from 3k to 30k.
const (
	translateTarget      = "30k routes: ≤ 6 s wall, ≤ 1 GiB peak RSS"
	translateRatioTarget = "30k / 3k wall ≤ 11"
)

// translateRows are the offline translate figures: the in-process go
// benchmark (1k routes) if it ran, each size of the load tool's run, and
// the growth ratio.
func translateRows(r *results) []row {
	var rows []row
	for _, b := range medianSpread(r.GoBench, "BenchmarkTranslateManifests") {
		rows = append(rows, row{"offline translate, in-process benchmark (" + b.Name + ")", "", fmt.Sprintf("%s/op, %.0f MB/op", b.Ns.ms(), b.Bytes.Median/1e6)})
	}
	t := r.Translate
	if t == nil || len(t.Sizes) == 0 {
		why := "not measured (--translate=false)"
		if t != nil && t.Error != "" {
			why = "not measured: " + t.Error
		}
		return append(rows, row{"offline causeway translate --kube", translateTarget, why})
	}
	for _, s := range t.Sizes {
		target := ""
		if s.Routes == 30000 {
			target = translateTarget
		}
		rows = append(rows, row{
			fmt.Sprintf("offline causeway translate --kube: %s HTTPRoutes × 2 rules → %s Services × 10 endpoints, one Gateway", thousands(s.Routes), thousands(s.Services)),
			target,
			fmt.Sprintf("%.2f s wall (median of %d: %s s), %.2f s CPU, %.0f MiB peak RSS, %.0f MiB output", s.WallSec, s.Runs, joinSeconds(s.AllWall), s.CPUSec, s.PeakRSSMiB, float64(s.OutBytes)/(1<<20)),
		})
	}
	if len(t.Sizes) >= 2 {
		first, last := t.Sizes[0], t.Sizes[len(t.Sizes)-1]
		rows = append(rows, row{
			fmt.Sprintf("offline translate growth: %s / %s routes", thousands(last.Routes), thousands(first.Routes)),
			translateRatioTarget,
			fmt.Sprintf("%.1f× wall (%.2f / %.2f s), %.1f× CPU, for %.0f× the input", t.WallRatio, last.WallSec, first.WallSec, ratio(last.CPUSec, first.CPUSec), float64(last.Routes)/float64(first.Routes)),
		})
	}
	if t.Error != "" {
		rows = append(rows, row{"offline causeway translate --kube", translateTarget, "not measured: " + t.Error})
	}
	return rows
}

func thousands(n int) string {
	if n%1000 == 0 && n >= 1000 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func joinSeconds(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(s, ", ")
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
