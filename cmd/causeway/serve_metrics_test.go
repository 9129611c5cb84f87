package main

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// descPattern reads a metric's name and variable label names from
// prometheus.Desc's String form, the only place the client library shows
// the label names of a vector with no series.
var descPattern = regexp.MustCompile(`^Desc\{fqName: "([^"]+)", .*variableLabels: \{([^}]*)\}\}$`)

// registeredLabels maps every metric registered on reg to its label names,
// including vectors that have no series yet.
func registeredLabels(t *testing.T, reg *metricsRegistry) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, c := range reg.collectors() {
		ch := make(chan *prometheus.Desc)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := descPattern.FindStringSubmatch(d.String())
			if m == nil {
				t.Fatalf("cannot read the name and labels of %s", d)
			}
			var labels []string
			for _, l := range strings.Split(m[2], ",") {
				if l = strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")"); l != "" {
					labels = append(labels, l)
				}
			}
			out[m[1]] = labels
		}
	}
	return out
}

// readmeLabelTable reads the label table of the README's "Logs and
// metrics" section: label name -> the metrics it is on.
func readmeLabelTable(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### Logs and metrics\n")
	if !ok {
		t.Fatal(`README.md has no "### Logs and metrics" section`)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|.*\\| ([^|]+) \\|$")
	metric := regexp.MustCompile("`([a-z_]+)`")
	table := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		for _, mm := range metric.FindAllStringSubmatch(m[2], -1) {
			table[m[1]] = append(table[m[1]], mm[1])
		}
	}
	if len(table) == 0 {
		t.Fatal("README.md: no label rows in the Logs and metrics table")
	}
	return table
}

// checkLabelConvention fails when a metric on reg uses a label name the
// README's table does not define, or is not listed on that label's row:
// one label name per concept (resource type is `type`, never `type_url`;
// a workload cluster is `cluster`), and the table stays true.
func checkLabelConvention(t *testing.T, reg *metricsRegistry) {
	t.Helper()
	table := readmeLabelTable(t)
	labels := registeredLabels(t, reg)
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, metric := range names {
		for _, l := range labels[metric] {
			metrics, ok := table[l]
			switch {
			case !ok:
				t.Errorf("metric %s: label %q is not in the README's label table (use the name the table gives the concept, or add a row)", metric, l)
			case strings.HasPrefix(metric, "causeway_") && !slices.Contains(metrics, metric):
				t.Errorf("metric %s: uses label %q but the README's row for it does not list the metric", metric, l)
			}
		}
	}
}

func TestLabelConventionTableIsStrict(t *testing.T) {
	// The check must catch the old name of the resource type label.
	reg := newMetricsRegistry()
	reg.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{Name: "causeway_test_nacks_total", Help: "h"}, []string{"type_url"}))
	labels := registeredLabels(t, reg)
	if got := labels["causeway_test_nacks_total"]; !slices.Equal(got, []string{"type_url"}) {
		t.Fatalf("labels of the test vector = %v, want [type_url]", got)
	}
	if _, ok := readmeLabelTable(t)["type_url"]; ok {
		t.Error("the README's label table defines type_url; resource type is `type`")
	}
	if got := labels["causeway_build_info"]; !slices.Equal(got, []string{"version", "revision", "goversion"}) {
		t.Errorf("causeway_build_info labels = %v", got)
	}
}
