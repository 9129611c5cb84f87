package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	prommodel "github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/internal/promql"
)

const observabilityDir = "../../examples/observability"

// scrapeLabels are added by Prometheus to every series it scrapes, so
// queries may use them though serve does not export them.
var scrapeLabels = map[string]bool{"job": true, "instance": true}

// TestObservabilityQueriesMatchServeMetrics checks every metric and label
// the dashboard and alert rules read against the /metrics of a real
// `causeway serve` in Kubernetes mode (a workload cluster, a GatewayClass
// it writes status for, an ADS stream that ACKs and NACKs, one refused for
// lack of a credential, one that never sends: every labelled family the
// queries read gets a series to compare with) and in world mode (the world
// file's metrics). A family without a series is not in /metrics at all, so
// a query of one that serve cannot be made to produce here fails too.
func TestObservabilityQueriesMatchServeMetrics(t *testing.T) {
	queries := append(alertQueries(t), dashboardQueries(t)...)
	exported := scrapeKubeServe(t)
	// World mode registers the world file's metrics instead of the
	// Kubernetes ones; a deployment runs one or the other.
	for name, labels := range scrapeWorldServe(t) {
		if exported[name] == nil {
			exported[name] = labels
		}
	}

	var names []string
	for n := range exported {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("serve exports %d metric names; checking %d queries", len(names), len(queries))
	for _, q := range queries {
		for _, s := range q.uses.Selectors {
			labels, ok := exported[s.Metric]
			if !ok {
				t.Errorf("%s: metric %s is not one serve exports", q.where, s.Metric)
				continue
			}
			for _, l := range s.Labels {
				if !labels[l] && !scrapeLabels[l] {
					t.Errorf("%s: metric %s has no label %q (it has %v)", q.where, s.Metric, l, keys(labels))
				}
			}
		}
		for _, g := range q.uses.Groupings {
			for _, l := range g.Labels {
				if scrapeLabels[l] || anyHasLabel(exported, g.Metrics, l) {
					continue
				}
				t.Errorf("%s: %s (%s): none of %v has label %q", q.where, g.Clause, strings.Join(g.Labels, ", "), g.Metrics, l)
			}
		}
	}
}

// TestObservabilityFiles checks the alert rules and dashboard alone (what
// promtool check rules and a dashboard import would), so a plain go test
// without API servers still does.
func TestObservabilityFiles(t *testing.T) {
	alertQueries(t)
	dashboardQueries(t)
}

type query struct {
	where string // file and rule or panel, for errors
	uses  promql.Uses
}

// ruleFile is the rule-file structure Prometheus (and a PrometheusRule's
// spec) reads; unknown fields are an error, like promtool check rules.
type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Rules    []struct {
			Alert       string            `json:"alert"`
			Record      string            `json:"record,omitempty"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// alertQueries parses alerts.yaml like promtool check rules would and
// checks what this project asks of every alert: a for, a severity, a
// summary and a runbook.
func alertQueries(t *testing.T) []query {
	data, err := os.ReadFile(filepath.Join(observabilityDir, "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	if len(f.Groups) == 0 {
		t.Fatal("alerts.yaml: no groups")
	}
	var out []query
	seen := map[string]bool{}
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("alerts.yaml: group %q without a name or rules", g.Name)
		}
		for _, r := range g.Rules {
			where := fmt.Sprintf("alerts.yaml group %s alert %s", g.Name, r.Alert)
			if r.Alert == "" || r.Record != "" {
				t.Errorf("%s: want an alert (no recording rules here)", where)
			}
			if seen[r.Alert] {
				t.Errorf("%s: duplicate alert name", where)
			}
			seen[r.Alert] = true
			if d, err := prommodel.ParseDuration(r.For); err != nil || d <= 0 {
				t.Errorf("%s: for %q: want a positive duration (%v)", where, r.For, err)
			}
			if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
				t.Errorf("%s: severity %q, want critical, warning or info", where, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["runbook"] == "" {
				t.Errorf("%s: want summary and runbook annotations", where)
			}
			u, err := promql.Parse(r.Expr)
			if err != nil {
				t.Errorf("%s: expr: %v", where, err)
				continue
			}
			out = append(out, query{where, u})
		}
	}
	return out
}

// labelValues is Grafana's template query label_values(metric, label).
var labelValues = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

// dashboardQueries reads every panel target and template query of the
// Grafana dashboard.
func dashboardQueries(t *testing.T) []query {
	data, err := os.ReadFile(filepath.Join(observabilityDir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"` // collapsed rows nest panels
	}
	var d struct {
		Title      string            `json:"title"`
		UID        string            `json:"uid"`
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("grafana-dashboard.json: want a title and a uid")
	}
	var out []query
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("grafana-dashboard.json: panel: %v", err)
			}
			walk(p.Panels)
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("grafana-dashboard.json: panel %q has no query", p.Title)
			}
			for i, tg := range p.Targets {
				where := fmt.Sprintf("grafana-dashboard.json panel %q target %d", p.Title, i)
				u, err := promql.Parse(tg.Expr)
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				out = append(out, query{where, u})
			}
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(map[string]any)
		text, _ := q["query"].(string)
		m := labelValues.FindStringSubmatch(text)
		if m == nil {
			t.Errorf("grafana-dashboard.json: variable %s: query %q is not label_values(metric, label)", v.Name, text)
			continue
		}
		out = append(out, query{"grafana-dashboard.json variable " + v.Name,
			promql.Uses{Selectors: []promql.Selector{{Metric: m[1], Labels: []string{m[2]}}}}})
	}
	if len(out) < 20 {
		t.Errorf("grafana-dashboard.json: only %d queries found; the walk is missing panels", len(out))
	}
	return out
}

func anyHasLabel(exported map[string]map[string]bool, metrics []string, label string) bool {
	for _, m := range metrics {
		if exported[m][label] {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
