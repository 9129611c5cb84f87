package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpreadOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want spread
	}{
		{"empty", nil, spread{}},
		{"one", []float64{5}, spread{N: 1, Median: 5, Min: 5, Max: 5}},
		{"odd", []float64{9, 1, 5}, spread{N: 3, Median: 5, Min: 1, Max: 9}},
		{"even", []float64{4, 1, 2, 8}, spread{N: 4, Median: 3, Min: 1, Max: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := spreadOf(tc.in); got != tc.want {
				t.Errorf("spreadOf(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestMedianSpread(t *testing.T) {
	out := parseBench([]byte(`goos: linux
BenchmarkGatewayTranslate/routes=1000-2   	 100	  3000000 ns/op	 500 B/op	 7 allocs/op
BenchmarkGatewayTranslate/routes=10000-2  	  10	 40000000 ns/op	 900 B/op	 9 allocs/op
BenchmarkGatewayTranslate/routes=1000-2   	 100	  1000000 ns/op	 300 B/op	 5 allocs/op
BenchmarkGatewayTranslate/routes=1000-2   	 100	  2000000 ns/op	 400 B/op	 6 allocs/op
BenchmarkOther-2  	 1	  1 ns/op
`))
	got := medianSpread(out, "BenchmarkGatewayTranslate/")
	if len(got) != 2 {
		t.Fatalf("got %d groups, want 2: %+v", len(got), got)
	}
	if got[0].Name != "BenchmarkGatewayTranslate/routes=1000" || got[1].Name != "BenchmarkGatewayTranslate/routes=10000" {
		t.Errorf("names %q, %q: want first-seen order without -2", got[0].Name, got[1].Name)
	}
	if want := (spread{N: 3, Median: 2e6, Min: 1e6, Max: 3e6}); got[0].Ns != want {
		t.Errorf("ns %+v, want %+v", got[0].Ns, want)
	}
	if got[0].Bytes.Median != 400 || got[0].Allocs.Median != 6 {
		t.Errorf("bytes %+v allocs %+v, want medians 400 and 6", got[0].Bytes, got[0].Allocs)
	}
	if s := got[0].Ns.ms(); s != "2.0 ms (1.0–3.0, n=3)" {
		t.Errorf("ms() = %q", s)
	}
	if s := got[1].Ns.ms(); s != "40.0 ms" {
		t.Errorf("ms() of one run = %q", s)
	}
	if findSpread(out, "BenchmarkGatewayTranslate/routes=1000") == nil || findSpread(out, "BenchmarkGatewayTranslate/routes=100") != nil {
		t.Error("findSpread must match the whole name")
	}
}

func TestTrimProcs(t *testing.T) {
	for in, want := range map[string]string{
		"BenchmarkX-2": "BenchmarkX", "BenchmarkX/vds=10-16": "BenchmarkX/vds=10",
		"BenchmarkX/a-b": "BenchmarkX/a-b", "BenchmarkX": "BenchmarkX", "BenchmarkX-": "BenchmarkX-",
	} {
		if got := trimProcs(in); got != want {
			t.Errorf("trimProcs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRowsUseMedians feeds -count=3 output to the table: the rows show
// each benchmark's median and range, not its first run.
func TestRowsUseMedians(t *testing.T) {
	r := &results{GoBench: parseBench([]byte(`
BenchmarkTranslate/vds=10000-2  1  300000000 ns/op  9000000 B/op  900 allocs/op
BenchmarkTranslate/vds=10000-2  1  100000000 ns/op  7000000 B/op  700 allocs/op
BenchmarkTranslate/vds=10000-2  1  200000000 ns/op  8000000 B/op  800 allocs/op
BenchmarkEndpointFastPath/vds=1000-2  100  3000000 ns/op
BenchmarkEndpointFastPath/vds=1000-2  100  1000000 ns/op
BenchmarkEndpointFastPath/vds=1000-2  100  2000000 ns/op
BenchmarkFullPush/warm/vds=1000-2  10  90000000 ns/op
BenchmarkFullPush/warm/vds=1000-2  10  30000000 ns/op
BenchmarkFullPush/warm/vds=1000-2  10  60000000 ns/op
BenchmarkMarshalFloor/vds=1000-2  10  20000000 ns/op
BenchmarkMarshalFloor/vds=1000-2  10  10000000 ns/op
BenchmarkMarshalFloor/vds=1000-2  10  30000000 ns/op
`))}
	all := ""
	for _, x := range r.rows() {
		all += x.measured + "\n"
	}
	for _, want := range []string{
		"200.0 ms (100.0–300.0, n=3), 800 allocs, 8.0 MB",
		"vds=1000 2.00 ms (1.00–3.00, n=3)",
		"warm/vds=1000 3.00× (60 / 20 ms)",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("table lacks %q:\n%s", want, all)
		}
	}
}

// TestResultsJSONCarriesTable checks results.json holds every table row and
// the benchmarks' medians.
func TestResultsJSONCarriesTable(t *testing.T) {
	dir := t.TempDir()
	r := &results{GoBench: parseBench([]byte("BenchmarkX/a-2  1  3 ns/op\nBenchmarkX/a-2  1  1 ns/op\nBenchmarkX/a-2  1  2 ns/op\n"))}
	var out strings.Builder
	if err := r.write(dir, &out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Medians []benchSpread `json:"go_benchmark_medians"`
		Table   []tableRow    `json:"table"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Table) != len(r.rows()) || len(got.Table) == 0 {
		t.Errorf("results.json has %d table rows, the table %d", len(got.Table), len(r.rows()))
	}
	if len(got.Medians) != 1 || got.Medians[0].Name != "BenchmarkX/a" || got.Medians[0].Ns.Median != 2 || got.Medians[0].Ns.N != 3 {
		t.Errorf("medians %+v, want BenchmarkX/a median 2 of 3", got.Medians)
	}
}
