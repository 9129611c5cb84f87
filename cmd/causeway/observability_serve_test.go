package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
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

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

// What TestObservabilityQueriesMatchServeMetrics compares against: the
// metrics of real serves, with an ADS exchange that makes labelled
// families appear.

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
	defer serveInBackground(ctx, t, f)()
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
