package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
)

// TestBootstrapClient: a client proxy's bootstrap carries its namespace,
// DNS port and bind address, read back by Causeway as given.
func TestBootstrapClient(t *testing.T) {
	code, out, errOut := causeway(t, "bootstrap", "--role", "client", "--cluster", "cluster-1", "--bind-address", "127.0.90.1",
		"--namespace", "bookinfo", "--dns-port", "5353", "--zone", "us-east-1a", "--xds-insecure")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	p := proxyOfBootstrap(t, []byte(out))
	want := model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", Locality: model.Locality{Zone: "us-east-1a"},
		BindAddress: "127.0.90.1", Namespace: "bookinfo", DNSPort: 5353}
	if p != want {
		t.Errorf("proxy %+v, want %+v", p, want)
	}
}

func TestBootstrapClientErrors(t *testing.T) {
	base := []string{"bootstrap", "--role", "client", "--cluster", "cluster-1", "--xds-insecure"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no bind address", nil, "--bind-address: a client proxy needs the address its listeners bind to"},
		{"unspecified bind address", []string{"--bind-address", "0.0.0.0"}, `--bind-address: "0.0.0.0": a client proxy needs an IP address clients can reach`},
		{"a name as bind address", []string{"--bind-address", "node-1"}, `--bind-address: "node-1"`},
		{"bad namespace", []string{"--bind-address", "127.0.90.1", "--namespace", "Book_Info"}, `"Book_Info" is not a namespace name`},
		{"dns port range", []string{"--bind-address", "127.0.90.1", "--dns-port", "70000"}, "--dns-port: port 70000 is out of range"},
		{"a Gateway", []string{"--bind-address", "127.0.90.1", "--all-gateways"}, "a client proxy serves no Gateway"},
		{"node name and zone", []string{"--bind-address", "127.0.90.1", "--node-name", "n1", "--zone", "a"}, "give one"},
		{"kubeconfig without node name", []string{"--bind-address", "127.0.90.1", "--kubeconfig", "x"}, "give --node-name too"},
		{"node name outside a Pod", []string{"--bind-address", "127.0.90.1", "--node-name", "n1"}, `--node-name "n1": no in-cluster credentials`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBERNETES_SERVICE_HOST", "") // not in a Pod, whatever runs the test
			code, _, errOut := causeway(t, append(append([]string(nil), base...), tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q, want an error containing %q", code, errOut, tc.want)
			}
		})
	}
	// Gateway and east-west proxies have no namespace or DNS port.
	code, _, errOut := causeway(t, "bootstrap", "--role", "eastwest", "--cluster", "c", "--namespace", "a", "--xds-insecure")
	if code == 0 || !strings.Contains(errOut, "--namespace and --dns-port are for --role client") {
		t.Errorf("eastwest with --namespace: exit %d, %s", code, errOut)
	}
}

// TestBootstrapNodeLocality reads the locality from a Node of a real
// kube-apiserver, with the kubeconfig of a real service-account token, as
// the DaemonSet's init container does with its in-cluster credentials.
// The arguments are examples/kubernetes/client-proxy's init container's,
// with its file paths moved here: the example's flags are the command's.
func TestBootstrapNodeLocality(t *testing.T) {
	env := kubeenv.Start(t, "cluster-1")
	c := env.Cluster("cluster-1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for name, labels := range map[string]map[string]string{
		"node-a": {corev1.LabelTopologyRegion: "us-east", corev1.LabelTopologyZone: "us-east-1b", "topology.istio.io/subzone": "rack-7"},
		"node-b": {"kubernetes.io/hostname": "node-b"},
	} {
		if _, err := c.Clientset().CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	token := serviceAccountToken(ctx, t, c.Clientset(), "causeway-system", "causeway-client")
	kc, err := c.Kubeconfig(token)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"kubeconfig": filepath.Join(dir, "kubeconfig"), "--xds-token-file": filepath.Join(dir, "token"),
		"--xds-ca": filepath.Join(issueTestCredentials(t), "ca.pem"), "--out": filepath.Join(dir, "envoy", "bootstrap.yaml")}
	for f, data := range map[string][]byte{"kubeconfig": kc, "--xds-token-file": []byte(token)} {
		if err := os.WriteFile(files[f], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(files["--out"]), 0o755); err != nil {
		t.Fatal(err)
	}
	args := exampleInitArgs(t)
	for i, a := range args {
		k, _, ok := strings.Cut(a, "=")
		if p, moved := files[k]; ok && moved {
			args[i] = k + "=" + p
		}
	}
	run := func(node string) (int, string, string) {
		expanded := make([]string, 0, len(args)+2)
		for _, a := range args {
			a = strings.ReplaceAll(a, "$(NODE_NAME)", node)
			expanded = append(expanded, strings.ReplaceAll(a, "$(HOST_IP)", "10.0.0.7"))
		}
		return causeway(t, append(expanded, "--kubeconfig", files["kubeconfig"])...)
	}

	code, out, errOut := run("node-a")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "wrote "+files["--out"]) {
		t.Errorf("stdout %q does not say where the bootstrap went", out)
	}
	y, err := os.ReadFile(files["--out"])
	if err != nil {
		t.Fatal(err)
	}
	p := proxyOfBootstrap(t, y)
	if want := (model.Locality{Region: "us-east", Zone: "us-east-1b", Subzone: "rack-7"}); p.Locality != want || p.Role != model.RoleClient ||
		p.BindAddress != "10.0.0.7" || p.DNSPort != model.DefaultDNSPort {
		t.Errorf("proxy %+v, want a client bound to 10.0.0.7 in %v", p, want)
	}

	// A Node without topology labels: the cluster's default, with a warning.
	code, _, errOut = run("node-b")
	if code != 0 || !strings.Contains(errOut, "Node node-b has no topology.kubernetes.io/region") {
		t.Errorf("node-b: exit %d, stderr %q, want success with a warning", code, errOut)
	}
	if y, _ := os.ReadFile(files["--out"]); proxyOfBootstrap(t, y).Locality != (model.Locality{}) {
		t.Errorf("node-b: locality %v, want none", proxyOfBootstrap(t, y).Locality)
	}

	code, _, errOut = run("node-missing")
	if code == 0 || !strings.Contains(errOut, `--node-name "node-missing": no such Node`) {
		t.Errorf("missing Node: exit %d, stderr %q", code, errOut)
	}
}

// exampleInitArgs are the client-proxy DaemonSet's init container args.
func exampleInitArgs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../examples/kubernetes/client-proxy/daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(data, &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Spec.Template.Spec.InitContainers) != 1 {
		t.Fatalf("%d init containers", len(ds.Spec.Template.Spec.InitContainers))
	}
	return append([]string(nil), ds.Spec.Template.Spec.InitContainers[0].Args...)
}

// proxyOfBootstrap is the identity Causeway reads from a bootstrap's node.
func proxyOfBootstrap(t *testing.T, y []byte) model.Proxy {
	t.Helper()
	b := parseBootstrapYAML(t, y)
	p, err := model.ProxyFromNode(b.GetNode(), nil)
	if err != nil {
		t.Fatalf("ProxyFromNode: %v", err)
	}
	return p
}

func parseBootstrapYAML(t *testing.T, y []byte) *bootstrapv3.Bootstrap {
	t.Helper()
	js, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	b := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(js, b); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, y)
	}
	return b
}
