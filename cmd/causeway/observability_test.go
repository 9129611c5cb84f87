package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/promql"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

const observabilityDir = "../../examples/observability"

// scrapeLabels are added by Prometheus to every series it scrapes, so
// queries may use them though serve does not export them.
var scrapeLabels = map[string]bool{"job": true, "instance": true}

// TestObservabilityQueriesMatchServeMetrics checks every metric and label
// the dashboard and alert rules read against the /metrics of a real
// `causeway serve` in Kubernetes mode (the mode that registers every
// metric): a workload cluster, a GatewayClass it writes status for, an
// ADS stream that ACKs and NACKs, and one refused for lack of a
// credential, so that every labelled family has a series to compare with.
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

// scrapeKubeServe runs serve in Kubernetes mode, makes it produce a series
// of every labelled family the queries read, and returns its metrics.
func scrapeKubeServe(t *testing.T) map[string]map[string]bool {
	env := kubeenv.Start(t, "management", "cluster-1")
	env.InstallCRDs(t, "management")
	ctx, cancelCtx := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelCtx()
	mgmt := env.Cluster("management")
	if _, err := mgmt.Clientset().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "causeway-system"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A GatewayClass of Causeway's controller: the status writer writes it.
	dyn, err := dynamic.NewForConfig(mgmt.Config)
	if err != nil {
		t.Fatal(err)
	}
	gc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
		"metadata": map[string]any{"name": "causeway"},
		"spec":     map[string]any{"controllerName": model.DefaultControllerName},
	}}
	if _, err := dyn.Resource(schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gatewayclasses"}).
		Create(ctx, gc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clusters := filepath.Join(t.TempDir(), "clusters.yaml")
	if err := os.WriteFile(clusters, []byte(fmt.Sprintf("clusters:\n- {name: cluster-1, kubeconfig: %s}\n", env.Cluster("cluster-1").KubeconfigPath)), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &serveFlags{
		xdsAddress: freeAddr(t), metricsAddress: freeAddr(t),
		caDir: filepath.Join(t.TempDir(), "ca"), trustDomain: "causeway.local", logLevel: "info",
		xdsServerNames: []string{xds.DefaultServerName},
		// A stream that sends nothing is closed after 1s: a series of
		// causeway_xds_streams_closed_total.
		xdsFirstRequestTimeout: time.Second,
		kube: kubeFlags{
			clusters: clusters, managementKubeconfig: mgmt.KubeconfigPath, namespace: "causeway-system",
			syncTimeout: time.Minute, leaderElect: true, leaseName: "causeway-status",
		},
	}
	var logs lockedBuffer
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runServe(runCtx, f, &logs) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("runServe: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("runServe did not stop 20s after cancel")
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	}()
	base := "http://" + f.metricsAddress
	waitHTTP(t, base+"/readyz", 60*time.Second, func(code int, body string) error {
		if code != 200 {
			return fmt.Errorf("%d %q", code, body)
		}
		return nil
	})

	adsExchange(t, ctx, f)

	return scrape(t, base, "causeway_xds_nacks_total", "causeway_convergence_seconds", "causeway_xds_auth_failures_total",
		"causeway_status_writes_total", "causeway_cluster_stale", "causeway_xds_connected_proxies", "causeway_xds_streams_closed_total")
}

// scrapeWorldServe runs serve in world mode (plaintext xDS; nothing to
// authenticate) and returns its metrics.
func scrapeWorldServe(t *testing.T) map[string]map[string]bool {
	f := &serveFlags{
		world: "testdata/world.yaml", xdsAddress: freeAddr(t), metricsAddress: freeAddr(t),
		caDir: filepath.Join(t.TempDir(), "ca"), trustDomain: "causeway.local", logLevel: "info", xdsInsecure: true,
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, f, &logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("world-mode runServe: %v\nlogs:\n%s", err, logs.String())
		}
	}()
	return scrape(t, "http://"+f.metricsAddress, "causeway_world_reloads_total")
}

// scrape waits until /metrics at base has a series of each of want and
// returns each exported sample name with its label names (histograms as
// _bucket with le, _sum and _count).
func scrape(t *testing.T, base string, want ...string) map[string]map[string]bool {
	var families map[string]*dto.MetricFamily
	waitHTTP(t, base+"/metrics", 30*time.Second, func(_ int, body string) error {
		var err error
		p := expfmt.NewTextParser(prommodel.UTF8Validation)
		if families, err = p.TextToMetricFamilies(strings.NewReader(body)); err != nil {
			return err
		}
		for _, w := range want {
			if fam := families[w]; fam == nil || len(fam.GetMetric()) == 0 {
				return fmt.Errorf("no %s series yet", w)
			}
		}
		return nil
	})
	out := map[string]map[string]bool{}
	add := func(name string, labels []*dto.LabelPair, extra ...string) {
		if out[name] == nil {
			out[name] = map[string]bool{}
		}
		for _, l := range labels {
			out[name][l.GetName()] = true
		}
		for _, l := range extra {
			out[name][l] = true
		}
	}
	for name, fam := range families {
		for _, m := range fam.GetMetric() {
			switch fam.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(name+"_bucket", m.GetLabel(), "le")
				add(name+"_sum", m.GetLabel())
				add(name+"_count", m.GetLabel())
			case dto.MetricType_SUMMARY:
				add(name, m.GetLabel(), "quantile")
				add(name+"_sum", m.GetLabel())
				add(name+"_count", m.GetLabel())
			default:
				add(name, m.GetLabel())
			}
		}
	}
	return out
}

// adsExchange opens an ADS stream as cluster-1's east-west gateway with a
// certificate from serve's CA, ACKs the clusters and NACKs the listeners,
// and opens one stream without a credential, which serve refuses.
func adsExchange(t *testing.T, ctx context.Context, f *serveFlags) {
	authority, err := ca.LoadOrCreate(f.caDir, f.trustDomain)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, _, err := authority.Issue(authority.SpiffeID(string(model.RoleEastWest), "cluster-1"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(authority.RootPEM())
	dial := func(certs ...tls.Certificate) discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient {
		cfg := &tls.Config{RootCAs: roots, ServerName: xds.DefaultServerName, Certificates: certs, MinVersion: tls.VersionTLS12}
		conn, err := grpc.NewClient(f.xdsAddress, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return stream
	}
	md, err := structpb.NewStruct(map[string]any{model.NodeMetaRole: string(model.RoleEastWest), model.NodeMetaCluster: "cluster-1"})
	if err != nil {
		t.Fatal(err)
	}
	node := &corev3.Node{Id: "observability-test", Metadata: md}

	stream := dial(cert)
	exchange := func(typeURL, nack string) {
		t.Helper()
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typeURL}); err != nil {
			t.Fatalf("send %s: %v", typeURL, err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("receive %s: %v", typeURL, err)
		}
		req := &discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResponseNonce: resp.GetNonce(), VersionInfo: resp.GetVersionInfo()}
		if nack != "" {
			req.VersionInfo = ""
			req.ErrorDetail = &statuspb.Status{Code: 3, Message: nack}
		}
		if err := stream.Send(req); err != nil {
			t.Fatalf("answer %s: %v", typeURL, err)
		}
	}
	exchange(resource.ClusterType, "")
	exchange(resource.ListenerType, "observability test: rejected on purpose")

	refused := dial()
	_ = refused.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resource.ClusterType})
	if _, err := refused.Recv(); err == nil {
		t.Fatal("a stream without a credential was served")
	}
	silent := dial(cert) // sends nothing: closed at --xds-first-request-timeout
	_, _ = silent.Header()
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
