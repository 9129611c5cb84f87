package main

import (
	"fmt"
	"math"
)

// The PNG's second section: the many-clusters run. Left, every client's
// convergence time for EndpointSlice changes in random clusters; right,
// serve's RSS (red points) and live heap (green) against the workload
// clusters registered.

// clustersSectionH is the section's height: one line when not measured.
func clustersSectionH(r *clustersResult) int {
	if r == nil {
		return 40
	}
	return pngH
}

func drawClusters(c canvas, r *clustersResult, top int) {
	if r == nil {
		c.text(margin, top+15, "MANY CLUSTERS: NOT MEASURED (--CLUSTERS-SCALE)", black)
		return
	}
	c.histogram(top, fmt.Sprintf("%d CLUSTERS: ENDPOINTSLICE CHANGE TO %d CLIENTS (MS)", r.Clusters, r.Clients), r.Samples)
	ox, y0, y1 := pngW-margin-panelW, top+pngH-margin, top+margin
	c.text(ox, top+15, "SERVE RSS AND LIVE HEAP (MIB) VS CLUSTERS", black)
	c.line(ox, y0, ox+panelW, y0, black)
	c.line(ox, y0, ox, y1, black)
	xs, rss, heap := []float64{0}, []float64{r.ServeBaseRSSMiB}, []float64{r.ServeBaseHeapMiB}
	for _, s := range r.Steps {
		xs, rss, heap = append(xs, float64(s.Clusters)), append(rss, s.RSSMiB), append(heap, s.HeapMiB)
	}
	maxX, maxY := 1.0, 1.0
	for i := range xs {
		maxX, maxY = math.Max(maxX, xs[i]), math.Max(maxY, rss[i])
	}
	px := func(v float64) int { return ox + int(v/maxX*float64(panelW-30)) }
	py := func(m float64) int { return y0 - int(m/maxY*float64(y0-y1-20)) }
	for k, ys := range [][]float64{rss, heap} {
		col := red
		if k == 1 {
			col = green
		}
		x0, yp := -1, -1
		for i := range xs {
			x, y := px(xs[i]), py(ys[i])
			if x0 >= 0 {
				c.line(x0, yp, x, y, blue)
			}
			c.rect(x-3, y-3, x+3, y+3, col)
			c.text(x-12, y-16, fmt.Sprintf("%.0f", ys[i]), col)
			x0, yp = x, y
		}
	}
	for _, x := range xs {
		c.text(px(x)-6, y0+10, fmt.Sprintf("%.0f", x), black)
	}
}
