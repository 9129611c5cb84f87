package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	sigsyaml "sigs.k8s.io/yaml"
)

// causeway runs the CLI in-process and returns its exit code and output.
func causeway(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeWorld(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTranslate(t *testing.T) {
	code, out, errOut := causeway(t, "translate", "--world", "testdata/world.yaml", "--role", "gateway", "--cluster", "cluster-1", "--gateway", "bookinfo/ingress")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"# listeners\n---\nname: gateway_8080\n",
		"# clusters\n---\nname: outbound|9080||reviews.mesh.internal.com\n",
		"# endpoints\n---\ncluster_name: outbound|9080||reviews.mesh.internal.com\n",
		"address: 127.0.2.100", // the remote endpoint became cluster-2's east-west gateway
		"# secrets\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "contents redacted") {
		t.Errorf("secrets printed without --with-secrets:\n%s", out)
	}
}

func TestTranslateTypeAndSecrets(t *testing.T) {
	code, out, errOut := causeway(t, "translate", "--world", "testdata/world.yaml", "--cluster", "cluster-1", "--gateway", "bookinfo/ingress", "--type", "secrets", "--with-secrets")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	want := "# secrets\n---\nname: causeway-identity # contents redacted\n---\nname: causeway-root-ca # contents redacted\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	if strings.Contains(out, "redacted\n---\ncertificate") || strings.Contains(out, "inline_bytes") {
		t.Errorf("secret contents leaked:\n%s", out)
	}
}

func TestTranslateEastWest(t *testing.T) {
	code, out, errOut := causeway(t, "translate", "--world", "testdata/world.yaml", "--role", "eastwest", "--cluster", "cluster-2",
		"--bind-address", "127.0.2.100", "--type", "listeners")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "name: eastwest_15443") || strings.Contains(out, "# clusters") {
		t.Errorf("want only the east-west listener:\n%s", out)
	}
}

// TestTranslateClient: --role client prints the client proxy's HTTP
// listeners on its bind address and its DNS listener on --dns-port.
func TestTranslateClient(t *testing.T) {
	code, out, errOut := causeway(t, "translate", "--world", "../../testdata/translator/client-basic/world.yaml", "--role", "client",
		"--cluster", "cluster-1", "--bind-address", "127.0.1.50", "--dns-port", "5353", "--type", "listeners")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"name: client_8080", "name: client_9090", "name: client_dns", "port_value: 5353", "protocol: UDP", "name: app.global"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTranslateInvalidWorld(t *testing.T) {
	path := writeWorld(t, "apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: cluster-1}\nspec: {eastWestGateways: [{address: not-an-ip}]}\n")
	code, out, errOut := causeway(t, "translate", "--world", path, "--cluster", "cluster-1", "--all-gateways")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if out != "" {
		t.Errorf("stdout not empty:\n%s", out)
	}
	if want := `document 1 (Cluster cluster-1): spec.eastWestGateways[0].address: "not-an-ip" is not an IP address`; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
}

func TestTranslateDiagnostics(t *testing.T) {
	world, err := os.ReadFile("testdata/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(world), "name: reviews.mesh.internal.com, port: 9080", "name: nowhere.mesh.internal.com, port: 9080", 1)
	if broken == string(world) {
		t.Fatal("fixture changed: backendRef to replace not found")
	}
	code, out, errOut := causeway(t, "translate", "--world", writeWorld(t, broken), "--cluster", "cluster-1", "--gateway", "bookinfo/ingress")
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "diagnostic: HTTPRoute bookinfo/reviews: spec.rules[0].backendRefs[0]") {
		t.Errorf("stderr lacks the diagnostic:\n%s", errOut)
	}
	if !strings.Contains(out, "# routes\n") {
		t.Errorf("resources not printed alongside diagnostics:\n%s", out)
	}
}

func TestTranslateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster", "cluster-1", "--type", "bogus"}, `--type "bogus"`},
		{[]string{"--cluster", "cluster-9", "--all-gateways"}, `--cluster "cluster-9" is not in`},
		{[]string{"--cluster", "cluster-1", "--role", "sidecar"}, `--role: "sidecar" is not a role`},
		{[]string{"--cluster", "cluster-1"}, "--role gateway needs --gateway <namespace>/<name> (the one Gateway the proxy serves) or --all-gateways"},
		{[]string{"--cluster", "cluster-1", "--gateway", "bookinfo/ingress", "--all-gateways"}, `--gateway "bookinfo/ingress" and --all-gateways: give one or the other`},
		{[]string{"--cluster", "cluster-1", "--gateway", "ingress"}, `--gateway "ingress": want <namespace>/<name>`},
		{[]string{"--cluster", "cluster-2", "--role", "eastwest", "--all-gateways"}, "--gateway and --all-gateways are for --role gateway; a eastwest proxy serves no Gateway"},
		{[]string{}, `required flag(s) "cluster" not set`},
		{[]string{"--cluster", "cluster-1", "--role", "client"}, "--bind-address: a client proxy needs the address its listeners bind to"},
		{[]string{"--cluster", "cluster-1", "--role", "client", "--bind-address", "0.0.0.0"}, `--bind-address: "0.0.0.0": a client proxy needs an IP address clients can reach`},
		{[]string{"--cluster", "cluster-1", "--role", "client", "--bind-address", "127.0.1.50", "--namespace", "Bad_NS"}, `--namespace: "Bad_NS" is not a namespace name`},
		{[]string{"--cluster", "cluster-1", "--role", "client", "--bind-address", "127.0.1.50", "--dns-port", "70000"}, "--dns-port: port 70000 is out of range"},
		{[]string{"--cluster", "cluster-1", "--all-gateways", "--namespace", "bookinfo"}, "--namespace and --dns-port are for --role client"},
	} {
		args := append([]string{"translate", "--world", "testdata/world.yaml"}, tc.args...)
		code, _, errOut := causeway(t, args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// seed is the seed walk-through as Kubernetes manifests, one directory per
// workload cluster.
const seed = "testdata/seed"

var seedArgs = []string{"translate", "--kube", "cluster-1=" + seed + "/cluster-1", "--kube", "cluster-2=" + seed + "/cluster-2"}

// endpointsOf returns "address:port" of every endpoint of cluster name in
// the printed resources, by locality "region/zone".
func endpointsOf(t *testing.T, out, name string) map[string][]string {
	t.Helper()
	_, section, ok := strings.Cut(out, "# endpoints\n")
	if !ok {
		t.Fatalf("no endpoints in output:\n%s", out)
	}
	section, _, _ = strings.Cut(section, "\n# ")
	for _, doc := range strings.Split(section, "---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		js, err := sigsyaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var cla endpointv3.ClusterLoadAssignment
		if err := protojson.Unmarshal(js, &cla); err != nil {
			t.Fatalf("%v in:\n%s", err, doc)
		}
		if cla.GetClusterName() != name {
			continue
		}
		got := map[string][]string{}
		for _, l := range cla.GetEndpoints() {
			loc := l.GetLocality().GetRegion() + "/" + l.GetLocality().GetZone()
			for _, e := range l.GetLbEndpoints() {
				a := e.GetEndpoint().GetAddress().GetSocketAddress()
				got[loc] = append(got[loc], fmt.Sprintf("%s:%d", a.GetAddress(), a.GetPortValue()))
			}
		}
		return got
	}
	t.Fatalf("no endpoints for %s in:\n%s", name, section)
	return nil
}

// The seed walk-through, offline: the cluster-1 gateway reaches reviews v1
// and v2 directly and v3 through cluster-2's east-west gateway.
func TestTranslateKubeSeed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
	}{
		{"clusters named by the flags", nil},
		{"with the cluster config file", []string{"--clusters", seed + "/clusters.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append(append([]string(nil), seedArgs...), tc.extra...), "--role", "gateway", "--cluster", "cluster-1", "--gateway", "gloo-system/http")
			code, out, errOut := causeway(t, args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			if errOut != "" {
				t.Errorf("stderr not empty:\n%s", errOut)
			}
			for _, want := range []string{
				"# listeners\n---\nname: gateway_8080\n",
				"# clusters\n---\nname: outbound|9080||productpage.bookinfo.svc.cluster.local\n",
				"---\nname: outbound|9080||reviews.mesh.internal.com\n",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			want := map[string][]string{
				"us-east/us-east-1a": {"198.18.1.10:9080"},   // reviews v1, locality from its Node
				"us-east/us-east-1b": {"198.18.1.11:9080"},   // reviews v2
				"us-west/us-west-1a": {"198.18.2.100:15443"}, // v3 through cluster-2's east-west gateway
			}
			if diff := cmp.Diff(want, endpointsOf(t, out, "outbound|9080||reviews.mesh.internal.com")); diff != "" {
				t.Errorf("reviews endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTranslateKubeEastWest(t *testing.T) {
	code, out, errOut := causeway(t, append(seedArgs, "--role", "eastwest", "--cluster", "cluster-2", "--type", "endpoints")...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	// cluster-2's east-west gateway forwards to its own reviews only.
	if !strings.Contains(out, "address: 198.18.2.10\n") || strings.Contains(out, "198.18.1.1") {
		t.Errorf("want only cluster-2's local endpoint:\n%s", out)
	}
}

// writeManifestDir copies the seed's cluster-1 manifests into a new
// directory, with file name's content replaced.
func writeManifestDir(t *testing.T, name, content string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(seed + "/cluster-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(seed, "cluster-1", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == name {
			data = []byte(content)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTranslateKubeInvalidManifest(t *testing.T) {
	reviews, err := os.ReadFile(seed + "/cluster-1/reviews.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(reviews), "  nodeName: node-1b\n", "  nodeName: node-1b\n  nodeNmae: typo\n", 1)
	if broken == string(reviews) {
		t.Fatal("fixture changed: nodeName of reviews v2 not found")
	}
	dir := writeManifestDir(t, "reviews.yaml", broken)
	code, out, errOut := causeway(t, "translate", "--kube", "cluster-1="+dir, "--cluster", "cluster-1", "--gateway", "gloo-system/http")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if out != "" {
		t.Errorf("stdout not empty:\n%s", out)
	}
	want := filepath.Join(dir, "reviews.yaml") + `: document 3 (Pod bookinfo/reviews-v2-778547d5c9-qqgv4): unknown field "spec.nodeNmae"`
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
}

// An invalid VirtualDestination is left out and reported; the rest is
// translated, as causeway serve would serve it.
func TestTranslateKubeInvalidObject(t *testing.T) {
	config, err := os.ReadFile(seed + "/cluster-1/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(config), "  - number: 9080\n    protocol: HTTP\n", "  - number: 9080\n    protocol: HTTP\n  - number: 9080\n", 1)
	if broken == string(config) {
		t.Fatal("fixture changed: VirtualDestination port not found")
	}
	dir := writeManifestDir(t, "config.yaml", broken)
	code, out, errOut := causeway(t, "translate", "--kube", "cluster-1="+dir, "--cluster", "cluster-1", "--gateway", "gloo-system/http")
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"diagnostic: VirtualDestination bookinfo/reviews-vd: spec.ports[1].number: duplicate port 9080\n",
		"diagnostic: HTTPRoute gloo-system/reviews: spec.rules[0].backendRefs[0]", // its host no longer exists
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "name: outbound|9080||productpage.bookinfo.svc.cluster.local\n") {
		t.Errorf("the valid rest was not translated:\n%s", out)
	}
}

func TestTranslateKubeUsageErrors(t *testing.T) {
	badClusters := writeWorld(t, "clusters: [{name: cluster-1}]\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--world", "testdata/world.yaml", "--kube", "cluster-1=" + seed + "/cluster-1", "--cluster", "cluster-1", "--all-gateways"}, 1, "[kube world] were all set"},
		{[]string{"--cluster", "cluster-1", "--all-gateways"}, 1, "at least one of the flags in the group [world kube] is required"},
		{[]string{"--world", "testdata/world.yaml", "--clusters", seed + "/clusters.yaml", "--cluster", "cluster-1", "--all-gateways"}, 1, "--clusters needs --kube"},
		{[]string{"--kube", seed + "/cluster-1", "--cluster", "cluster-1", "--all-gateways"}, 1, `--kube "testdata/seed/cluster-1": want CLUSTER=PATH`},
		{[]string{"--kube", "cluster-1=", "--cluster", "cluster-1", "--all-gateways"}, 1, "want CLUSTER=PATH"},
		{[]string{"--kube", "cluster-9=" + seed + "/cluster-1", "--clusters", seed + "/clusters.yaml", "--cluster", "cluster-9", "--all-gateways"}, 1, `cluster "cluster-9" is not in testdata/seed/clusters.yaml`},
		{append(seedArgs[1:], "--cluster", "cluster-3", "--all-gateways"), 1, `--cluster "cluster-3" is not in the --kube clusters (clusters: cluster-1, cluster-2)`},
		{[]string{"--kube", "cluster-1=" + seed + "/cluster-1", "--clusters", badClusters, "--cluster", "cluster-1", "--all-gateways"}, 2, "clusters[0] (cluster-1): kubeconfig: is required"},
		{[]string{"--kube", "cluster-1=" + seed + "/absent", "--cluster", "cluster-1", "--all-gateways"}, 2, "absent: no such file or directory"},
	} {
		code, out, errOut := causeway(t, append([]string{"translate"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q; want exit %d and %q", tc.args, code, len(out), errOut, tc.code, tc.want)
		}
	}
}
