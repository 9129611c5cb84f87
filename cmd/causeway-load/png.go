package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strings"
)

// The PNG: left, the distribution of convergence times (histogram of every
// client's time to ACK, kube-apiserver figure if measured, else the largest
// world); right, serve RSS against the number of VirtualDestinations (and
// the largest world's under GOMEMLIMIT, if measured).
// Drawn by hand with a 3×5 pixel font, scaled 2×.

const (
	pngW, pngH = 1000, 420
	panelW     = 440
	margin     = 50
)

var (
	white = color.RGBA{255, 255, 255, 255}
	black = color.RGBA{0, 0, 0, 255}
	grey  = color.RGBA{200, 200, 200, 255}
	blue  = color.RGBA{40, 90, 200, 255}
	red   = color.RGBA{200, 40, 40, 255}
	green = color.RGBA{30, 150, 60, 255}
)

// font3x5 rows, top to bottom, 3 bits each ('#' set).
var font3x5 = map[rune][5]string{
	'0': {"###", "#.#", "#.#", "#.#", "###"}, '1': {".#.", "##.", ".#.", ".#.", "###"},
	'2': {"###", "..#", "###", "#..", "###"}, '3': {"###", "..#", ".##", "..#", "###"},
	'4': {"#.#", "#.#", "###", "..#", "..#"}, '5': {"###", "#..", "###", "..#", "###"},
	'6': {"###", "#..", "###", "#.#", "###"}, '7': {"###", "..#", ".#.", ".#.", ".#."},
	'8': {"###", "#.#", "###", "#.#", "###"}, '9': {"###", "#.#", "###", "..#", "###"},
	'A': {".#.", "#.#", "###", "#.#", "#.#"}, 'B': {"##.", "#.#", "##.", "#.#", "##."},
	'C': {"###", "#..", "#..", "#..", "###"}, 'D': {"##.", "#.#", "#.#", "#.#", "##."},
	'E': {"###", "#..", "##.", "#..", "###"}, 'F': {"###", "#..", "##.", "#..", "#.."},
	'G': {"###", "#..", "#.#", "#.#", "###"}, 'H': {"#.#", "#.#", "###", "#.#", "#.#"},
	'I': {"###", ".#.", ".#.", ".#.", "###"}, 'K': {"#.#", "#.#", "##.", "#.#", "#.#"},
	'L': {"#..", "#..", "#..", "#..", "###"}, 'M': {"#.#", "###", "###", "#.#", "#.#"},
	'N': {"##.", "#.#", "#.#", "#.#", "#.#"}, 'O': {"###", "#.#", "#.#", "#.#", "###"},
	'P': {"###", "#.#", "###", "#..", "#.."}, 'R': {"##.", "#.#", "##.", "#.#", "#.#"},
	'S': {"###", "#..", "###", "..#", "###"}, 'T': {"###", ".#.", ".#.", ".#.", ".#."},
	'U': {"#.#", "#.#", "#.#", "#.#", "###"}, 'V': {"#.#", "#.#", "#.#", "#.#", ".#."},
	'W': {"#.#", "#.#", "###", "###", "#.#"}, 'X': {"#.#", "#.#", ".#.", "#.#", "#.#"},
	'Y': {"#.#", "#.#", ".#.", ".#.", ".#."}, '.': {"...", "...", "...", "...", ".#."},
	'-': {"...", "...", "###", "...", "..."}, '/': {"..#", "..#", ".#.", "#..", "#.."},
	'=': {"...", "###", "...", "###", "..."}, '(': {".#.", "#..", "#..", "#..", ".#."},
	')': {".#.", "..#", "..#", "..#", ".#."}, ',': {"...", "...", "...", ".#.", "#.."},
}

type canvas struct{ *image.RGBA }

func (c canvas) dot(x, y int, col color.Color) {
	if image.Pt(x, y).In(c.Bounds()) {
		c.Set(x, y, col)
	}
}

func (c canvas) rect(x0, y0, x1, y1 int, col color.Color) {
	for y := min(y0, y1); y <= max(y0, y1); y++ {
		for x := min(x0, x1); x <= max(x0, x1); x++ {
			c.dot(x, y, col)
		}
	}
}

func (c canvas) line(x0, y0, x1, y1 int, col color.Color) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		c.rect(x0+(x1-x0)*i/n, y0+(y1-y0)*i/n, x0+(x1-x0)*i/n, y0+(y1-y0)*i/n+1, col)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// text draws s (upper-cased) at x,y with 2× pixels.
func (c canvas) text(x, y int, s string, col color.Color) {
	for _, r := range strings.ToUpper(s) {
		if g, ok := font3x5[r]; ok {
			for row, bits := range g {
				for i, b := range bits {
					if b == '#' {
						c.rect(x+i*2, y+row*2, x+i*2+1, y+row*2+1, col)
					}
				}
			}
		}
		x += 8
	}
}

func drawPNG(r *results, path string) error {
	table := tableLines(r.rows())
	h := pngH + clustersSectionH(r.ManyClusters) + tableH(table)
	c := canvas{image.NewRGBA(image.Rect(0, 0, pngW, h))}
	c.rect(0, 0, pngW-1, h-1, white)
	drawClusters(c, r.ManyClusters, pngH)
	drawTable(c, table, pngH+clustersSectionH(r.ManyClusters))
	// Left: convergence histogram.
	samples, title := []float64(nil), ""
	if r.Kube != nil && len(r.Kube.Samples) > 0 {
		samples, title = r.Kube.Samples, fmt.Sprintf("KUBE-APISERVER CONVERGENCE, %d CLIENTS (MS)", r.Kube.Clients)
	} else if len(r.Scales) > 0 {
		s := r.Scales[len(r.Scales)-1]
		samples, title = s.Samples, fmt.Sprintf("WORLD CONVERGENCE, %d VDS, %d CLIENTS (MS)", s.VDs, s.Clients)
	}
	c.histogram(0, title, samples)
	y0, y1 := pngH-margin, margin
	// Right: RSS against VirtualDestinations.
	ox := pngW - margin - panelW
	c.text(ox, 15, "SERVE RSS (MIB) VS VIRTUALDESTINATIONS", black)
	c.line(ox, y0, ox+panelW, y0, black)
	c.line(ox, y0, ox, y1, black)
	if len(r.Scales) > 0 {
		maxV, maxR := 1.0, 512.0
		for _, s := range r.Scales {
			maxV, maxR = math.Max(maxV, float64(s.VDs)), math.Max(maxR, s.RSSMiB)
			if s.Limited != nil {
				maxR = math.Max(maxR, s.Limited.RSSMiB)
			}
		}
		px := func(v float64) int { return ox + int(v/maxV*float64(panelW-20)) }
		py := func(m float64) int { return y0 - int(m/maxR*float64(y0-y1)) }
		// The 512 MiB target.
		for x := ox; x < ox+panelW; x += 6 {
			c.rect(x, py(512), x+2, py(512), grey)
		}
		c.text(ox+4, py(512)-14, "512", grey)
		px0, py0 := -1, -1
		for _, s := range r.Scales {
			x, y := px(float64(s.VDs)), py(s.RSSMiB)
			if px0 >= 0 {
				c.line(px0, py0, x, y, blue)
			}
			c.rect(x-3, y-3, x+3, y+3, red)
			c.text(x-20, y-16, fmt.Sprintf("%.0f", s.RSSMiB), black)
			c.text(x-16, y0+10, fmt.Sprintf("%d", s.VDs), black)
			if l := s.Limited; l != nil && l.RSSMiB > 0 {
				// The same world served under GOMEMLIMIT, in green.
				ly := py(l.RSSMiB)
				c.rect(x-3, ly-3, x+3, ly+3, green)
				label := fmt.Sprintf("%.0f GOMEMLIMIT=%s", l.RSSMiB, l.GoMemLimit)
				c.text(x-8*len(label)-8, ly-4, label, green)
			}
			px0, py0 = x, y
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, c); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// histogram draws samples (ms) in the left panel of the section starting at
// top, with p50 and p99 marked.
func (c canvas) histogram(top int, title string, samples []float64) {
	x0, y0, x1, y1 := margin, top+pngH-margin, margin+panelW, top+margin
	c.text(x0, top+15, title, black)
	c.line(x0, y0, x1, y0, black)
	c.line(x0, y0, x0, y1, black)
	if len(samples) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range samples {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if hi <= lo {
			hi = lo + 1
		}
		const bins = 40
		counts := make([]int, bins)
		top := 1
		for _, v := range samples {
			b := min(int((v-lo)/(hi-lo)*bins), bins-1)
			counts[b]++
			top = max(top, counts[b])
		}
		bw := panelW / bins
		for i, n := range counts {
			h := n * (y0 - y1) / top
			c.rect(x0+i*bw+1, y0-h, x0+(i+1)*bw-1, y0-1, blue)
		}
		d := summarize(durationsMS(samples))
		for k, q := range []struct {
			v   float64
			col color.Color
			l   string
		}{{d.P50, green, "P50"}, {d.P99, red, "P99"}} {
			x := x0 + int((q.v-lo)/(hi-lo)*panelW)
			c.line(x, y0, x, y1, q.col)
			lx := x + 4
			if lx > x1-70 {
				lx = x - 80 // keep the label inside the panel
			}
			c.text(lx, y1+4+k*16, fmt.Sprintf("%s %.0f", q.l, q.v), q.col)
		}
		c.text(x0, y0+10, fmt.Sprintf("%.0f", lo), black)
		c.text(x1-40, y0+10, fmt.Sprintf("%.0f", hi), black)
		c.text(x0-45, y1, fmt.Sprintf("%d", top), black)
	}
}
