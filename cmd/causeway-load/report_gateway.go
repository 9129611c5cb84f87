package main

import (
	"fmt"
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

// gatewaySizesRow lists bench's median time (with its range over the
// -count runs) and allocations at each size found, then the 100k/10k ratio
// of the medians when both were measured.
func gatewaySizesRow(bs []goBench, bench, figure, target string) row {
	var parts []string
	found := map[string]*benchSpread{}
	for _, s := range gatewayBenchSizes {
		b := findSpread(bs, bench+"/"+s.name)
		if b == nil {
			continue
		}
		found[s.name] = b
		parts = append(parts, fmt.Sprintf("%s %s (%.0f allocs, %.0f MB)", s.label, b.Ns.ms(), b.Allocs.Median, b.Bytes.Median/1e6))
	}
	if len(parts) == 0 {
		return row{figure, target, "not measured (" + bench + " not in the go bench output)"}
	}
	if big, small := found["routes=100000"], found["routes=10000"]; big != nil && small != nil && small.Ns.Median > 0 {
		parts = append(parts, fmt.Sprintf("100k/10k %.1f×", big.Ns.Median/small.Ns.Median))
	}
	return row{figure, target, join(parts)}
}
