package translator

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

var update = flag.Bool("update", false, "rewrite the expected files under testdata/translator from the translator's output")

// goldenDir holds one folder per case: world.yaml and proxy.yaml in (and
// optionally stale-clusters.yaml), the resource lists and diagnostics out.
const goldenDir = "../testdata/translator"

// testCredentials are fixed fake credentials so golden secrets are stable.
var testCredentials = Credentials{
	CertChainPEM:  []byte("test-cert"),
	PrivateKeyPEM: []byte("test-key"),
	RootCAPEM:     []byte("test-root"),
	SpiffeID:      "spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-gateway",
	TrustDomain:   "causeway.local",
}

// proxyFile is proxy.yaml: the identity of the proxy the case translates for.
// A gateway proxy without a gateway serves every Gateway of its cluster
// ("*"), the mode the cases written before per-Gateway proxies were
// written for.
type proxyFile struct {
	Role        model.Role     `json:"role"`
	Cluster     string         `json:"cluster"`
	Locality    model.Locality `json:"locality"`
	BindAddress string         `json:"bindAddress"`
	Gateway     string         `json:"gateway"`
	Namespace   string         `json:"namespace"`
	DNSPort     uint32         `json:"dnsPort"`
}

// diagnosticFile is one entry of diagnostics.yaml.
type diagnosticFile struct {
	Object  string `json:"object"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// goldenKind is one expected-output file and the message type it holds.
type goldenKind struct {
	file string
	got  []proto.Message
	new  func() proto.Message
}

func TestGolden(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(goldenDir, e.Name())
		t.Run(e.Name(), func(t *testing.T) { runGolden(t, dir) })
	}
	if n == 0 {
		t.Fatalf("no golden cases under %s", goldenDir)
	}
}

func runGolden(t *testing.T, dir string) {
	world, err := file.Load(filepath.Join(dir, "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	world = markStale(t, world, filepath.Join(dir, "stale-clusters.yaml"))
	p := readProxy(t, filepath.Join(dir, "proxy.yaml"))
	got := Translate(world, p, testCredentials)

	checkResources(t, got)

	for _, k := range []goldenKind{
		{"listeners.yaml", messages(got.Listeners), func() proto.Message { return &listenerv3.Listener{} }},
		{"routes.yaml", messages(got.Routes), func() proto.Message { return &routev3.RouteConfiguration{} }},
		{"clusters.yaml", messages(got.Clusters), func() proto.Message { return &clusterv3.Cluster{} }},
		{"endpoints.yaml", messages(got.Endpoints), func() proto.Message { return &endpointv3.ClusterLoadAssignment{} }},
		{"secrets.yaml", messages(got.Secrets), func() proto.Message { return &tlsv3.Secret{} }},
	} {
		path := filepath.Join(dir, k.file)
		if *update {
			writeFile(t, path, marshalResources(t, k.got))
		}
		want := unmarshalResources(t, path, k.new)
		if diff := cmp.Diff(want, k.got, protocmp.Transform()); diff != "" {
			t.Errorf("%s mismatch (-want +got; rerun with -update only if the change is intended):\n%s", path, diff)
		}
	}

	gotDiags := []diagnosticFile{}
	for _, d := range got.Diagnostics {
		gotDiags = append(gotDiags, diagnosticFile(d))
	}
	path := filepath.Join(dir, "diagnostics.yaml")
	if *update {
		out, err := yaml.Marshal(gotDiags)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, out)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantDiags := []diagnosticFile{}
	if err := yaml.UnmarshalStrict(data, &wantDiags); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if diff := cmp.Diff(wantDiags, gotDiags); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// markStale marks every endpoint of the clusters listed in path (a YAML list
// of cluster names; a missing file lists none) stale, as live discovery does
// for clusters it has not reached for too long. Staleness is not part of
// the world file: it is what Causeway observes, not what users declare.
func markStale(t *testing.T, w *model.Snapshot, path string) *model.Snapshot {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return w
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := yaml.UnmarshalStrict(data, &names); err != nil {
		t.Fatalf("%s: want a list of cluster names: %v", path, err)
	}
	stale := map[string]bool{}
	for _, n := range names {
		if w.Cluster(n) == nil {
			t.Fatalf("%s: cluster %q is not in the world", path, n)
		}
		stale[n] = true
	}
	world := model.World{
		Clusters:            w.Clusters(),
		VirtualDestinations: w.VirtualDestinations(),
		Gateways:            w.Gateways(),
		HTTPRoutes:          w.HTTPRoutes(),
		ReferenceGrants:     w.ReferenceGrants(),
		// Everything else passes through unchanged.
		ExternalServices:         w.ExternalServices(),
		FailoverPolicies:         w.FailoverPolicies(),
		OutlierDetectionPolicies: w.OutlierDetectionPolicies(),
		Workspaces:               w.Workspaces(),
		GatewayClasses:           w.GatewayClasses(),
		Namespaces:               w.Namespaces(),
		Secrets:                  w.Secrets(),
		ControllerName:           w.ControllerName(),
	}
	for _, svc := range w.Services() {
		svc.Endpoints = slices.Clone(svc.Endpoints)
		for i := range svc.Endpoints {
			svc.Endpoints[i].Stale = stale[svc.Cluster]
		}
		world.Services = append(world.Services, svc)
	}
	return model.NewSnapshot(world)
}

func readProxy(t *testing.T, path string) model.Proxy {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f proxyFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	p := model.Proxy{Role: f.Role, Cluster: f.Cluster, Locality: f.Locality, BindAddress: f.BindAddress, Gateway: f.Gateway,
		Namespace: f.Namespace, DNSPort: f.DNSPort}
	if p.Role == model.RoleGateway && p.Gateway == "" {
		p.Gateway = model.AllGateways
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

func messages[M proto.Message](list []M) []proto.Message {
	out := make([]proto.Message, 0, len(list))
	for _, m := range list {
		out = append(out, m)
	}
	return out
}

// marshalResources renders a resource list as YAML of protojson, with
// Envoy's snake_case field names so the files read like Envoy's docs.
func marshalResources(t *testing.T, list []proto.Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, m := range list {
		if i > 0 {
			buf.WriteString(",")
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	buf.WriteString("]")
	out, err := yaml.JSONToYAML(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func unmarshalResources(t *testing.T, path string, newMsg func() proto.Message) []proto.Message {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(js, &raws); err != nil {
		t.Fatalf("%s: want a YAML list: %v", path, err)
	}
	out := make([]proto.Message, 0, len(raws))
	for i, raw := range raws {
		m := newMsg()
		if err := protojson.Unmarshal(raw, m); err != nil {
			t.Fatalf("%s: item %d: %v", path, i, err)
		}
		out = append(out, m)
	}
	return out
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
