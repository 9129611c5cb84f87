package main

import (
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  []string
	}{
		{"a bb ccc", 20, []string{"a bb ccc"}},
		{"aaa bbb ccc", 7, []string{"aaa bbb", "  ccc"}},
		{"abcdefghij", 4, []string{"abcd", "  ef", "  gh", "  ij"}},
		{"", 5, nil},
	} {
		if got := wrap(tc.in, tc.width, "  "); !slices.Equal(got, tc.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

func TestPNGText(t *testing.T) {
	if got := pngText("p99 ≤ 250 ms, 10 × 3 → 1–2 €"); got != "P99 <= 250 MS, 10 X 3 -> 1-2 ?" {
		t.Errorf("pngText = %q", got)
	}
}

// TestDrawPNGWithClusters draws a results PNG with a many-clusters run and
// checks it decodes and is tall enough for the table of every row.
func TestDrawPNGWithClusters(t *testing.T) {
	r := &results{ManyClusters: linearRun()}
	r.ManyClusters.Samples = []float64{55, 60, 61, 90}
	r.ManyClusters.Costs = deriveCosts(r.ManyClusters)
	path := filepath.Join(t.TempDir(), "r.png")
	if err := drawPNG(r, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := tableLines(r.rows())
	if h := img.Bounds().Dy(); h != pngH+clustersSectionH(r.ManyClusters)+tableH(lines) {
		t.Errorf("height %d, want %d for %d table lines", h, pngH+clustersSectionH(r.ManyClusters)+tableH(lines), len(lines))
	}
	if !strings.Contains(strings.Join(lines, "\n"), "SERVE MEMORY PER CLUSTER") {
		t.Errorf("table lines lack the clusters rows:\n%s", strings.Join(lines, "\n"))
	}
}
