package bootstrap

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/model"
)

// wantRetry is the ADS reconnect backoff every bootstrap sets.
var wantRetry = &corev3.RetryPolicy{RetryBackOff: &corev3.BackoffStrategy{
	BaseInterval: durationpb.New(250 * time.Millisecond), MaxInterval: durationpb.New(time.Second),
}}

var gatewayOpts = Options{
	Role:         model.RoleGateway,
	Cluster:      "cluster-1",
	Locality:     model.Locality{Region: "us-east", Zone: "us-east-1a", Subzone: "rack-1"},
	BindAddress:  "127.0.1.1",
	Gateway:      "gloo-system/http",
	XDSAddress:   "127.0.0.1:18000",
	AdminAddress: "127.0.1.1:19000",
	Security:     Security{Insecure: true},
}

// parse reads a bootstrap YAML back the way Envoy does (YAML → JSON → proto).
func parse(t *testing.T, y []byte) *bootstrapv3.Bootstrap {
	t.Helper()
	js, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("YAML: %v", err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, b); err != nil {
		t.Fatalf("proto: %v\n%s", err, y)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("ValidateAll: %v", err)
	}
	return b
}

func TestBuild(t *testing.T) {
	y, err := Build(gatewayOpts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	got := parse(t, y)

	h2, err := anypb.New(&httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ads := &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}, ResourceApiVersion: corev3.ApiVersion_V3}
	want := &bootstrapv3.Bootstrap{
		Node: &corev3.Node{
			Id:       "gateway~cluster-1~gloo-system/http~127.0.1.1",
			Cluster:  "causeway-gateway",
			Locality: &corev3.Locality{Region: "us-east", Zone: "us-east-1a", SubZone: "rack-1"},
			Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{
				model.NodeMetaRole:        structpb.NewStringValue("gateway"),
				model.NodeMetaCluster:     structpb.NewStringValue("cluster-1"),
				model.NodeMetaBindAddress: structpb.NewStringValue("127.0.1.1"),
				model.NodeMetaGateway:     structpb.NewStringValue("gloo-system/http"),
			}},
		},
		Admin: &bootstrapv3.Admin{Address: socketAddress("127.0.1.1", 19000)},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{Clusters: []*clusterv3.Cluster{{
			Name:                          "causeway_xds",
			ClusterDiscoveryType:          &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
			ConnectTimeout:                durationpb.New(time.Second),
			TypedExtensionProtocolOptions: map[string]*anypb.Any{"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": h2},
			LoadAssignment: &endpointv3.ClusterLoadAssignment{
				ClusterName: "causeway_xds",
				Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress("127.0.0.1", 18000)}},
				}}}},
			},
		}}},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             corev3.ApiConfigSource_DELTA_GRPC,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "causeway_xds", RetryPolicy: wantRetry},
				}}},
				SetNodeOnFirstMessageOnly: true,
			},
			LdsConfig: ads,
			CdsConfig: ads,
		},
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("bootstrap mismatch (-want +got):\n%s", diff)
	}

	// The identity Causeway reads back from the node is the one given.
	p, err := model.ProxyFromNode(got.GetNode(), nil)
	if err != nil {
		t.Fatalf("ProxyFromNode: %v", err)
	}
	wantProxy := model.Proxy{Role: gatewayOpts.Role, Cluster: gatewayOpts.Cluster, Locality: gatewayOpts.Locality, BindAddress: gatewayOpts.BindAddress, Gateway: gatewayOpts.Gateway}
	if p != wantProxy {
		t.Errorf("ProxyFromNode = %+v, want %+v", p, wantProxy)
	}
}

// TestBuildProtocol checks the ADS variant each Protocol asks Envoy for;
// nothing else in the ADS config depends on it.
func TestBuildProtocol(t *testing.T) {
	for _, tc := range []struct {
		name     string
		protocol Protocol
		want     corev3.ApiConfigSource_ApiType
	}{
		{"default", "", corev3.ApiConfigSource_DELTA_GRPC},
		{"delta", ProtocolDelta, corev3.ApiConfigSource_DELTA_GRPC},
		{"sotw", ProtocolSotW, corev3.ApiConfigSource_GRPC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := gatewayOpts
			o.Protocol = tc.protocol
			y, err := Build(o)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			want := &corev3.ApiConfigSource{
				ApiType:             tc.want,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "causeway_xds", RetryPolicy: wantRetry},
				}}},
				SetNodeOnFirstMessageOnly: true,
			}
			if diff := cmp.Diff(want, parse(t, y).GetDynamicResources().GetAdsConfig(), protocmp.Transform()); diff != "" {
				t.Errorf("ads_config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildDefaults(t *testing.T) {
	y, err := Build(Options{Role: model.RoleEastWest, Cluster: "cluster-2", XDSAddress: "xds.example.internal:18000", Security: Security{Insecure: true}})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	b := parse(t, y)
	host, _ := os.Hostname()
	if got, want := b.GetNode().GetId(), "eastwest~cluster-2~"+host; got != want {
		t.Errorf("node id = %q, want %q", got, want)
	}
	if b.GetNode().GetLocality() != nil {
		t.Errorf("locality = %v, want none", b.GetNode().GetLocality())
	}
	if _, ok := b.GetNode().GetMetadata().GetFields()[model.NodeMetaBindAddress]; ok {
		t.Error("bind address metadata set without a bind address")
	}
	if got := b.GetStaticResources().GetClusters()[0].GetType(); got != clusterv3.Cluster_STRICT_DNS {
		t.Errorf("xds cluster type for a hostname = %v, want STRICT_DNS", got)
	}
	if got := b.GetAdmin().GetAddress().GetSocketAddress().GetPortValue(); got != 19000 {
		t.Errorf("admin port = %d, want default 19000", got)
	}
	custom, err := Build(Options{Role: model.RoleEastWest, Cluster: "c", NodeID: "my-node", Security: Security{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got := parse(t, custom).GetNode().GetId(); got != "my-node" {
		t.Errorf("node id = %q, want my-node", got)
	}
}

// TestBuildAllGateways: a proxy of every Gateway of its cluster says so in
// its metadata and its default node id.
func TestBuildAllGateways(t *testing.T) {
	o := gatewayOpts
	o.Gateway = model.AllGateways
	y, err := Build(o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	n := parse(t, y).GetNode()
	if got, want := n.GetId(), "gateway~cluster-1~*~127.0.1.1"; got != want {
		t.Errorf("node id = %q, want %q", got, want)
	}
	if got := n.GetMetadata().GetFields()[model.NodeMetaGateway].GetStringValue(); got != "*" {
		t.Errorf("metadata %s = %q, want \"*\"", model.NodeMetaGateway, got)
	}
}

// TestBuildSeveralXDSAddresses: several replicas are one xds cluster with
// an endpoint each, in the order given; a hostname among them makes it
// STRICT_DNS.
func TestBuildSeveralXDSAddresses(t *testing.T) {
	o := gatewayOpts
	o.XDSAddress, o.XDSAddresses = "", []string{"127.0.41.1:18000", "127.0.41.2:18001"}
	y, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	clusters := parse(t, y).GetStaticResources().GetClusters()
	if len(clusters) != 1 {
		t.Fatalf("%d static clusters, want the one xds cluster", len(clusters))
	}
	want := &endpointv3.ClusterLoadAssignment{
		ClusterName: "causeway_xds",
		Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: []*endpointv3.LbEndpoint{
			{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress("127.0.41.1", 18000)}}},
			{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress("127.0.41.2", 18001)}}},
		}}},
	}
	if diff := cmp.Diff(want, clusters[0].GetLoadAssignment(), protocmp.Transform()); diff != "" {
		t.Errorf("xds cluster endpoints (-want +got):\n%s", diff)
	}
	if got := clusters[0].GetType(); got != clusterv3.Cluster_STATIC {
		t.Errorf("type = %v, want STATIC for IP addresses", got)
	}
	if got := clusters[0].GetLbPolicy(); got != clusterv3.Cluster_ROUND_ROBIN {
		t.Errorf("lb policy = %v, want ROUND_ROBIN", got)
	}
	o.XDSAddresses = []string{"127.0.41.1:18000", "causeway-1.example.internal:18000"}
	y, err = Build(o)
	if err != nil {
		t.Fatal(err)
	}
	if got := parse(t, y).GetStaticResources().GetClusters()[0].GetType(); got != clusterv3.Cluster_STRICT_DNS {
		t.Errorf("type with a hostname = %v, want STRICT_DNS", got)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"bad role", func(o *Options) { o.Role = "sidecar" }, `role "sidecar"`},
		{"no cluster", func(o *Options) { o.Cluster = "" }, "cluster is required"},
		{"bad bind address", func(o *Options) { o.BindAddress = "localhost" }, `bind address "localhost"`},
		{"gateway proxy without a Gateway", func(o *Options) { o.Gateway = "" }, `causeway.gateway: a gateway proxy names the Gateway it serves`},
		{"malformed Gateway", func(o *Options) { o.Gateway = "http" }, `causeway.gateway: "http": want "<namespace>/<name>" or "*"`},
		{"east-west proxy with a Gateway", func(o *Options) { o.Role = model.RoleEastWest }, `only a gateway proxy serves a Gateway`},
		{"xds without port", func(o *Options) { o.XDSAddress = "127.0.0.1" }, "xds address"},
		{"xds port range", func(o *Options) { o.XDSAddress = "127.0.0.1:70000" }, "port 1-65535"},
		{"admin hostname", func(o *Options) { o.AdminAddress = "localhost:19000" }, "admin address host"},
		{"unknown protocol", func(o *Options) { o.Protocol = "rest" }, `xds protocol "rest": want "delta" or "sotw"`},
		{"xds address and addresses", func(o *Options) { o.XDSAddresses = []string{"127.0.0.2:18000"} }, "give one or the other"},
		{"xds address twice", func(o *Options) { o.XDSAddress, o.XDSAddresses = "", []string{"127.0.0.2:1", "127.0.0.2:1"} }, `"127.0.0.2:1" given twice`},
		{"one of several xds addresses bad", func(o *Options) { o.XDSAddress, o.XDSAddresses = "", []string{"127.0.0.2:1", "127.0.0.3"} }, `xds address "127.0.0.3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := gatewayOpts
			tc.mod(&o)
			_, err := Build(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

// findEnvoy returns a real Envoy binary or skips (fails under CAUSEWAY_REQUIRE_E2E=1).
func findEnvoy(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("CAUSEWAY_ENVOY")}
	if wd, err := os.Getwd(); err == nil {
		candidates = append(candidates, filepath.Join(wd, "..", "..", ".venv", "bin", "envoy"))
	}
	candidates = append(candidates, "/tmp/envoytry/venv/bin/envoy")
	for _, c := range candidates {
		if fi, err := os.Stat(c); c != "" && err == nil && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	msg := "no Envoy binary: set CAUSEWAY_ENVOY or run `make envoy` (.venv/bin/envoy)"
	if os.Getenv("CAUSEWAY_REQUIRE_E2E") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestEnvoyAcceptsBootstrap runs the real Envoy in validate mode, which
// parses the bootstrap and builds the static config without serving.
func TestEnvoyAcceptsBootstrap(t *testing.T) {
	envoy := findEnvoy(t)
	sotw := gatewayOpts
	sotw.Protocol = ProtocolSotW
	replicas := gatewayOpts
	replicas.XDSAddress, replicas.XDSAddresses = "", []string{"127.0.0.1:18000", "localhost:18001"}
	for _, o := range []Options{gatewayOpts, sotw, replicas, clientOpts, {Role: model.RoleEastWest, Cluster: "cluster-2", XDSAddress: "localhost:18000", AdminAddress: "127.0.2.100:19001", Security: Security{Insecure: true}}} {
		y, err := Build(o)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := envoyValidate(t, envoy, y); err != nil {
			t.Errorf("envoy --mode validate (%s %s %q): %v\n%s\n--- bootstrap ---\n%s", o.Role, o.Cluster, o.Protocol, err, out, y)
		}
	}
}

// envoyValidate runs `envoy --mode validate` on bootstrap y: Envoy parses
// it and builds the static configuration, TLS contexts included, without
// serving.
func envoyValidate(t *testing.T, envoy string, y []byte) ([]byte, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(path, y, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, envoy, "--mode", "validate", "-c", path, "--use-dynamic-base-id", "-l", "warning").CombinedOutput()
}
