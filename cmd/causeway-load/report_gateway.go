package main

import (
	"fmt"
	"strings"
)

// The gateway translation figure of issue 14: translator's
// BenchmarkGatewayTranslate (one gateway class, N HTTPRoutes with two rules
// each, N Services with 10 endpoints each, in process) at each size, and
// the 100k/10k ratio, which is about 10 when translation is linear.
// BenchmarkGatewayStatuses, over the same worlds, gets a row of its own.

// gatewayBenchSizes are the sub-benchmarks the rows show, in order.
var gatewayBenchSizes = []struct{ name, label string }{
	{"routes=1000", "1k"}, {"routes=10000", "10k"}, {"routes=100000", "100k"},
}

func gatewayRows(r *results) []row {
	return []row{
		gatewaySizesRow(r.GoBench, "BenchmarkGatewayTranslate", "gateway translation, N HTTPRoutes × 2 rules, one class, in process",
			"linear; 10k ≤ 150 ms, 100k ≤ 1.5 s"),
		gatewaySizesRow(r.GoBench, "BenchmarkGatewayStatuses", "gateway and HTTPRoute statuses, N HTTPRoutes × 2 rules, in process",
			"linear"),
	}
}

// gatewaySizesRow lists bench's time and allocations at each size found,
// then the 100k/10k ratio when both were measured.
func gatewaySizesRow(bs []goBench, bench, figure, target string) row {
	var parts []string
	found := map[string]*goBench{}
	for _, s := range gatewayBenchSizes {
		b := findSize(bs, bench, s.name)
		if b == nil {
			continue
		}
		found[s.name] = b
		parts = append(parts, fmt.Sprintf("%s %.1f ms (%.0f allocs, %.0f MB)", s.label, b.NsPerOp/1e6, b.AllocsPerOp, b.BytesPerOp/1e6))
	}
	if len(parts) == 0 {
		return row{figure, target, "not measured (" + bench + " not in the go bench output)"}
	}
	if big, small := found["routes=100000"], found["routes=10000"]; big != nil && small != nil && small.NsPerOp > 0 {
		parts = append(parts, fmt.Sprintf("100k/10k %.1f×", big.NsPerOp/small.NsPerOp))
	}
	return row{figure, target, join(parts)}
}

// findSize is bench's sub-benchmark of exactly that size (findBench,
// matching by prefix and substring, would take routes=10000 for
// routes=1000).
func findSize(bs []goBench, bench, size string) *goBench {
	for i := range bs {
		if strings.HasPrefix(bs[i].Name, bench+"/") && shortSize(bs[i].Name) == size {
			return &bs[i]
		}
	}
	return nil
}
