package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

type results struct {
	Started             string           `json:"started"`
	Seconds             float64          `json:"seconds"`
	Clients             int              `json:"clients"`
	EndpointsPerService int              `json:"endpoints_per_service"`
	Clusters            int              `json:"clusters"`
	Scales              []scaleResult    `json:"scales"`
	Kube                *kubeResult      `json:"kube,omitempty"`
	KubeError           string           `json:"kube_error,omitempty"`
	Translate           *translateResult `json:"translate,omitempty"`
	GoBench             []goBench        `json:"go_benchmarks,omitempty"`
	Soak                *soakResult      `json:"soak,omitempty"`
	Routes              routeFigures     `json:"routes"`
	ManyClusters        *clustersResult  `json:"many_clusters,omitempty"`
	PNG                 string           `json:"png,omitempty"`
	// GoBenchMedians are GoBench grouped by name (median and range of the
	// -count runs); Table is the printed table, every figure as text.
	GoBenchMedians []benchSpread `json:"go_benchmark_medians,omitempty"`
	Table          []tableRow    `json:"table"`
}

// tableRow is a row as results.json carries it.
type tableRow struct {
	Figure   string `json:"figure"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
}

type row struct{ figure, target, measured string }

func (r *results) rows() []row {
	var rows []row
	if b := findSpreadContaining(r.GoBench, "BenchmarkTranslate/", "vds=10000"); b != nil {
		rows = append(rows, row{"full translation, 10,000 VDs × 3 clusters × 10 endpoints, one class", "≤ 250 ms, allocations reported",
			fmt.Sprintf("%s, %d allocs, %.1f MB (%s)", b.Ns.ms(), int64(b.Allocs.Median), b.Bytes.Median/1e6, b.Name)})
	} else {
		rows = append(rows, row{"full translation, 10,000 VDs", "≤ 250 ms", "not measured (--go-bench)"})
	}
	var fast []string
	for _, b := range medianSpread(r.GoBench, "BenchmarkEndpointFastPath/") {
		fast = append(fast, fmt.Sprintf("%s %s", shortSize(b.Name), b.Ns.format(1e6, "ms", 2)))
	}
	if len(fast) > 0 {
		rows = append(rows, row{"one endpoint change → new EDS, control-plane work", "≤ 5 ms, flat 1k→10k VDs", join(fast)})
	} else {
		rows = append(rows, row{"one endpoint change → new EDS, control-plane work", "≤ 5 ms, flat", "not measured (--go-bench)"})
	}
	if k := r.Kube; k != nil && k.Convergence.N > 0 {
		rows = append(rows, row{fmt.Sprintf("convergence: EndpointSlice change in kube-apiserver → %d ADS clients ACKed (%d VDs)", k.Clients, k.VDs),
			"p99 ≤ 250 ms beyond debounce", fmt.Sprintf("beyond debounce: p99 %.1f ms (p99 − %v quiet); p50 %.1f / p90 %.1f / p99 %.1f ms (n=%d; sotw p99 %.1f, delta p99 %.1f; debounce %s, once, in discovery)",
				k.BeyondDebounceP99, kubeDebounceQuiet, k.Convergence.P50, k.Convergence.P90, k.Convergence.P99, k.Convergence.N, k.Sotw.P99, k.Delta.P99, k.Debounce)})
	} else {
		rows = append(rows, row{"convergence via kube-apiserver", "p99 ≤ 250 ms beyond debounce", "not measured: " + r.KubeError + kubeErr(r.Kube)})
	}
	for _, s := range r.Scales {
		if s.Convergence.N == 0 {
			rows = append(rows, row{fmt.Sprintf("convergence: world-file change → %d clients (%d VDs)", s.Clients, s.VDs), "", "not measured: " + s.Error})
			continue
		}
		rows = append(rows, row{fmt.Sprintf("convergence: world-file change → %d clients (%d VDs)", s.Clients, s.VDs), "(world mode: incl. 100 ms file-watch debounce and re-parse)",
			fmt.Sprintf("p50 %.1f / p90 %.1f / p99 %.1f ms (n=%d; sotw p99 %.1f, delta p99 %.1f)", s.Convergence.P50, s.Convergence.P90, s.Convergence.P99, s.Convergence.N, s.Sotw.P99, s.Delta.P99)})
	}
	for _, s := range r.Scales {
		rows = append(rows, row{fmt.Sprintf("memory: %d VDs, %d endpoints, %d streams", s.VDs, s.Endpoints, s.Clients), memoryTarget, memory(s)})
	}
	rows = append(rows, memoryBenchRows(r.GoBench)...)
	var ratios []string
	for _, b := range medianSpread(r.GoBench, "BenchmarkFullPush/") {
		// FullPush/<variant>/vds=N against MarshalFloor/vds=N (medians).
		sub := strings.TrimPrefix(b.Name, "BenchmarkFullPush/")
		size := sub[strings.LastIndex(sub, "/")+1:]
		if floor := findSpread(r.GoBench, "BenchmarkMarshalFloor/"+size); floor != nil && floor.Ns.Median > 0 {
			ratios = append(ratios, fmt.Sprintf("%s %.2f× (%.0f / %.0f ms)", shortSize(b.Name), b.Ns.Median/floor.Ns.Median, b.Ns.Median/1e6, floor.Ns.Median/1e6))
		}
	}
	if len(ratios) > 0 {
		rows = append(rows, row{"full push relative to marshalling floor", "≤ 3×", join(ratios)})
	} else {
		rows = append(rows, row{"full push relative to marshalling floor", "≤ 3×", "not measured (--go-bench)"})
	}
	rows = append(rows, gatewayRows(r)...)
	rows = append(rows, translateRows(r)...)
	rows = append(rows, routeRows(r)...)
	rows = append(rows, clustersRows(r.ManyClusters)...)
	if r.Soak != nil {
		rows = append(rows, r.Soak.rows()...)
	}
	return rows
}

func (r *results) write(dir string, w io.Writer) error {
	png := filepath.Join(dir, "results.png")
	if err := drawPNG(r, png); err != nil {
		fmt.Fprintln(os.Stderr, "png:", err)
	} else {
		r.PNG = png
	}
	r.GoBenchMedians = medianSpread(r.GoBench, "Benchmark")
	r.Table = nil
	for _, x := range r.rows() {
		r.Table = append(r.Table, tableRow{x.figure, x.target, x.measured})
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "| figure\t| target\t| measured\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t|")
	for _, x := range r.rows() {
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t|\n", x.figure, x.target, x.measured)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d ADS clients (half sotw, half delta); results in %s (JSON, PNG); took %.0f s\n", r.Clients, dir, r.Seconds)
	return nil
}

func kubeErr(k *kubeResult) string {
	if k == nil {
		return ""
	}
	return k.Error
}
