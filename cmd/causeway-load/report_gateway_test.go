package main

import (
	"strings"
	"testing"
)

func TestGatewayRows(t *testing.T) {
	out := []byte(`goos: linux
BenchmarkGatewayTranslate/routes=1000-2     	      30	  12000000 ns/op	        11.0 cpu-ms/op	 21000000 B/op	  170000 allocs/op
BenchmarkGatewayTranslate/routes=10000-2    	       3	 130000000 ns/op	       120.0 cpu-ms/op	207000000 B/op	 1680000 allocs/op
BenchmarkGatewayTranslate/routes=100000-2   	       1	1430000000 ns/op	      1400 cpu-ms/op	2070000000 B/op	16800000 allocs/op
BenchmarkGatewayStatuses/routes=10000       	       3	  90000000 ns/op	 26000000 B/op	  470000 allocs/op
PASS
`)
	for _, tc := range []struct {
		name  string
		bench []byte
		want  [2][]string // substrings of the translation and status rows' measured column
		never [2][]string
	}{
		{"every size", out,
			[2][]string{{"1k 12.0 ms (170000 allocs, 21 MB)", "10k 130.0 ms (1680000 allocs, 207 MB)", "100k 1430.0 ms", "100k/10k 11.0×"}, {"10k 90.0 ms"}},
			[2][]string{nil, {"1k", "100k", "×"}}},
		{"no 100k: no ratio", []byte(strings.Join(strings.Split(string(out), "\n")[:3], "\n")),
			[2][]string{{"1k 12.0 ms", "10k 130.0 ms"}, {"not measured"}},
			[2][]string{{"100k", "×"}, nil}},
		{"three runs: median and range", []byte(strings.Repeat(strings.Join(strings.Split(string(out), "\n")[2:3], "\n")+"\n", 2) +
			"BenchmarkGatewayTranslate/routes=10000-2 3 150000000 ns/op 200000000 B/op 1680000 allocs/op\n"),
			[2][]string{{"10k 130.0 ms (130.0–150.0, n=3)"}, {"not measured"}},
			[2][]string{{"1k", "×"}, nil}},
		{"nothing", nil,
			[2][]string{{"not measured (BenchmarkGatewayTranslate"}, {"not measured (BenchmarkGatewayStatuses"}},
			[2][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := gatewayRows(&results{GoBench: parseBench(tc.bench)})
			if len(rows) != 2 || !strings.HasPrefix(rows[0].figure, "gateway translation, N HTTPRoutes") || rows[0].target != "linear; 10k ≤ 150 ms, 100k ≤ 1.5 s" {
				t.Fatalf("rows %+v", rows)
			}
			for i, r := range rows {
				for _, w := range tc.want[i] {
					if !strings.Contains(r.measured, w) {
						t.Errorf("row %d %q does not say %q", i, r.measured, w)
					}
				}
				for _, w := range tc.never[i] {
					if strings.Contains(r.measured, w) {
						t.Errorf("row %d %q says %q", i, r.measured, w)
					}
				}
			}
		})
	}
}

// TestRowsIncludeGateway: make bench's table carries the gateway rows.
func TestRowsIncludeGateway(t *testing.T) {
	for _, r := range (&results{}).rows() {
		if strings.HasPrefix(r.figure, "gateway translation, N HTTPRoutes") {
			return
		}
	}
	t.Fatal("rows() has no gateway translation row")
}
