package promql

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		expr string
		want Uses
	}{
		{"bare metric", "up", Uses{Selectors: []Selector{{Metric: "up"}}}},
		{"matchers", `causeway_status_writes_total{result="error", kind!~"Gate.*"}`,
			Uses{Selectors: []Selector{{Metric: "causeway_status_writes_total", Labels: []string{"result", "kind"}}}}},
		{"histogram quantile with by before the argument",
			`histogram_quantile(0.99, sum by (le, type) (rate(causeway_convergence_seconds_bucket[5m])))`,
			Uses{
				Selectors: []Selector{{Metric: "causeway_convergence_seconds_bucket"}},
				Groupings: []Grouping{{Clause: "by", Labels: []string{"le", "type"}, Metrics: []string{"causeway_convergence_seconds_bucket"}}},
			}},
		{"by after the argument, Grafana range variable, offset",
			`sum(increase(a_total{x="1"}[$__rate_interval] offset 5m)) without (pod) > 0`,
			Uses{
				Selectors: []Selector{{Metric: "a_total", Labels: []string{"x"}}},
				Groupings: []Grouping{{Clause: "without", Labels: []string{"pod"}, Metrics: []string{"a_total"}}},
			}},
		{"binary operation with on and group_left: the whole expression is the scope",
			"process_resident_memory_bytes / on (instance) group_left go_gc_gomemlimit_bytes > bool 0.9",
			Uses{
				Selectors: []Selector{{Metric: "process_resident_memory_bytes"}, {Metric: "go_gc_gomemlimit_bytes"}},
				Groupings: []Grouping{
					{Clause: "on", Labels: []string{"instance"}, Metrics: []string{"process_resident_memory_bytes", "go_gc_gomemlimit_bytes"}},
					{Clause: "group_left", Metrics: []string{"process_resident_memory_bytes", "go_gc_gomemlimit_bytes"}},
				},
			}},
		{"subquery, absent, and/or, comment, strings with braces",
			"max_over_time(absent(b)[1h:1m]) # why\nand c{l=\"}{\\\"\"} or d",
			Uses{Selectors: []Selector{{Metric: "b"}, {Metric: "c", Labels: []string{"l"}}, {Metric: "d"}}}},
		{"nested aggregations keep their own scope",
			"sum by (cluster) (x) / count without (role) (y)",
			Uses{
				Selectors: []Selector{{Metric: "x"}, {Metric: "y"}},
				Groupings: []Grouping{
					{Clause: "by", Labels: []string{"cluster"}, Metrics: []string{"x"}},
					{Clause: "without", Labels: []string{"role"}, Metrics: []string{"y"}},
				},
			}},
		{"topk's parameter is not a metric", "topk(5, sum by (class) (causeway_snapshot_bytes))",
			Uses{
				Selectors: []Selector{{Metric: "causeway_snapshot_bytes"}},
				Groupings: []Grouping{{Clause: "by", Labels: []string{"class"}, Metrics: []string{"causeway_snapshot_bytes"}}},
			}},
		{"recording-rule style name with colons", "job:x:rate5m > 1e3",
			Uses{Selectors: []Selector{{Metric: "job:x:rate5m"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`{__name__="x"}`, "without a metric name"},
		{"sum(rate(x[5m])", `missing ")"`},
		{"rate(x[5m)", "in a range"},
		{"x)", `unbalanced ")"`},
		{`x{l="v}`, "unterminated string"},
		{"x{l}", "matchers"},
		{"sum by le (x)", "label list"},
		{"x ; y", "unexpected character"},
		{"1 + 2", "no metric selector"},
	}
	for _, tc := range tests {
		_, err := Parse(tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.expr, err, tc.want)
		}
	}
}

func TestMetrics(t *testing.T) {
	u, err := Parse("b + a + b")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Metrics(); !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("Metrics() = %v, want [a b]", got)
	}
}
