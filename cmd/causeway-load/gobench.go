package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// goBench is one line of `go test -bench` output.
type goBench struct {
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  float64 `json:"bytes_per_op,omitempty"`
	AllocsPerOp float64 `json:"allocs_per_op,omitempty"`
	// Metrics are the benchmark's own (b.ReportMetric), by unit.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// benchPackages and patterns are what the table needs.
var benchRuns = []struct{ pkg, pattern string }{
	{"./translator", "BenchmarkTranslate$|BenchmarkGatewayTranslate$|BenchmarkGatewayStatuses$"},
	{"./xds", "BenchmarkEndpointFastPath$|BenchmarkRouteFastPath$|BenchmarkFullPush|BenchmarkMarshalFloor"},
}

func runGoBenchmarks(ctx context.Context) ([]goBench, error) {
	var all []goBench
	for _, r := range benchRuns {
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", r.pattern, "-benchmem", "-benchtime", "1s", "-count", "1", r.pkg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, os.Stderr
		if err := cmd.Run(); err != nil {
			os.Stderr.Write(out.Bytes())
			return all, fmt.Errorf("go test %s: %w", r.pkg, err)
		}
		os.Stderr.Write(out.Bytes())
		all = append(all, parseBench(out.Bytes())...)
	}
	return all, nil
}

// parseBench reads "BenchmarkX-2  N  123 ns/op  45 B/op  6 allocs/op" lines.
func parseBench(out []byte) []goBench {
	var bs []goBench
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		b := goBench{Name: f[0]}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				b.NsPerOp = v
			case "B/op":
				b.BytesPerOp = v
			case "allocs/op":
				b.AllocsPerOp = v
			default:
				if b.Metrics == nil {
					b.Metrics = map[string]float64{}
				}
				b.Metrics[f[i+1]] = v
			}
		}
		bs = append(bs, b)
	}
	return bs
}

func findBench(bs []goBench, prefix, contains string) *goBench {
	for i := range bs {
		if strings.HasPrefix(bs[i].Name, prefix) && strings.Contains(bs[i].Name, contains) {
			return &bs[i]
		}
	}
	return nil
}

// shortSize is the sub-benchmark part of a name ("warm/vds=1000").
func shortSize(name string) string {
	if i := strings.Index(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndex(name, "-"); i >= 0 {
		name = name[:i]
	}
	return name
}

func join(s []string) string { return strings.Join(s, ", ") }
