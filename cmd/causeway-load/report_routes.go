package main

import (
	"fmt"
)

// routeFigures are the route fast path's figures in results.json: the
// route run (--route-scale) and the go benchmark's rows.
type routeFigures struct {
	Run *routeResult `json:"run,omitempty"`
}

// routeRows are the table's rows for issue 14's route figures: one
// HTTPRoute changed → RDS on the wire (BenchmarkRouteFastPath), and →
// every gateway client ACKed (the route run).
func routeRows(r *results) []row {
	var rows []row
	var fast []string
	for _, b := range medianSpread(r.GoBench, "BenchmarkRouteFastPath/") {
		fast = append(fast, shortSize(b.Name)+" "+b.Ns.format(1e6, "ms", 2))
	}
	const fastFigure = "one HTTPRoute changed → RDS on the wire, control-plane work (1 listener port: 1 route configuration of N virtual hosts)"
	if len(fast) > 0 {
		rows = append(rows, row{fastFigure, "≤ 20 ms, flat 1k→10k routes", join(fast)})
	} else {
		rows = append(rows, row{fastFigure, "≤ 20 ms, flat", "not measured (--go-bench)"})
	}
	const runTarget = "p99 ≤ 250 ms beyond debounce"
	switch run := r.Routes.Run; {
	case run == nil:
		rows = append(rows, row{"HTTPRoute change → gateway clients ACKed RDS", runTarget, "not measured (--route-scale 0)"})
	case run.Convergence.N == 0:
		rows = append(rows, row{fmt.Sprintf("HTTPRoute change → %d gateway clients ACKed RDS, %d routes", run.Clients, run.Routes), runTarget, "not measured: " + run.Error})
	default:
		m := fmt.Sprintf("beyond debounce: p99 %.1f ms (p99 − %.0f ms file watch and debounce); p50 %.1f / p90 %.1f / p99 %.1f ms (n=%d, %d changes; sotw p99 %.1f, delta p99 %.1f; route configuration %.1f MB)",
			run.BeyondDebounceP99, run.DebounceMS, run.Convergence.P50, run.Convergence.P90, run.Convergence.P99, run.Convergence.N, len(run.PerChangeP99), run.Sotw.P99, run.Delta.P99, float64(run.RouteConfig)/1e6)
		if run.Reconnects > 0 {
			m += fmt.Sprintf("; %d client reconnects (first: %s)", run.Reconnects, run.FirstReconnect)
		}
		if run.Error != "" {
			m += "; " + run.Error
		}
		rows = append(rows, row{fmt.Sprintf("HTTPRoute change → %d gateway clients ACKed RDS, %d routes", run.Clients, run.Routes), runTarget, m})
	}
	return rows
}
