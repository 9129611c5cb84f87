package main

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// unreachableKubeconfig writes a kubeconfig whose context c1 points at a
// port nothing listens on: the checks below must fail before any request,
// and the last case shows what a request failing looks like.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c1"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1", InsecureSkipTLSVerify: true}
	cfg.AuthInfos["c1"] = &clientcmdapi.AuthInfo{Token: "t"}
	cfg.Contexts["c1"] = &clientcmdapi.Context{Cluster: "c1", AuthInfo: "c1"}
	cfg.CurrentContext = "c1"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCreateRemoteSecretErrors: every bad input exits 1, prints nothing on
// stdout (a pipe into kubectl apply gets nothing) and names the flag,
// context or field at fault.
func TestCreateRemoteSecretErrors(t *testing.T) {
	kc := unreachableKubeconfig(t)
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent")) // no user kubeconfig leaks in
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no name", nil, "--name is required"},
		{"management flag without --apply", []string{"--name", "c1", "--management-context", "mgmt"}, "--management-context needs --apply"},
		{"bad locality", []string{"--name", "c1", "--locality", "a//c"}, `--locality "a//c": a subzone needs a zone`},
		{"short token", []string{"--name", "c1", "--token-duration", "1m"}, "--token-duration 1m0s: want 0 (long-lived token Secret) or at least 10m"},
		{"plain http server", []string{"--name", "c1", "--server", "http://x:6443"}, `--server "http://x:6443": want https://host[:port]`},
		{"bad Secret name", []string{"--name", "Cluster_1"}, `--name "Cluster_1": not a valid Secret name`},
		{"CA file missing", []string{"--name", "c1", "--certificate-authority", "/nonexistent/ca.pem"}, "--certificate-authority: open /nonexistent/ca.pem: no such file or directory"},
		{"CA file not PEM", []string{"--name", "c1", "--certificate-authority", kc}, "--certificate-authority " + kc + ": no PEM certificate in it"},
		{"unknown context", []string{"--name", "c1", "--context", "nope"}, `--kubeconfig ` + kc + `: no context "nope"`},
		{"bad east-west gateway", []string{"--name", "c1", "--east-west-gateways", "203.0.113.1"}, `--east-west-gateways: Secret causeway-system/c1: annotation causeway.dev/east-west-gateways: entry 1 "203.0.113.1": want address:port`},
		{"unknown management context", []string{"--name", "c1", "--apply", "--management-kubeconfig", kc, "--management-context", "mgmt"}, `--management-kubeconfig ` + kc + `: no context "mgmt"`},
		{"unreachable workload cluster", []string{"--name", "c1", "--server", "https://c1.example.com:6443"}, "workload cluster (context c1): apply Namespace causeway-system (namespace.yaml): "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"create-remote-secret", "--kubeconfig", kc, "--timeout", "10s"}, tc.args...)
			code, out, errOut := causeway(t, args...)
			if code != 1 || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, no stdout and %q", code, out, errOut, tc.want)
			}
		})
	}
}

// TestCreateRemoteSecretLoopbackWarning: a loopback API server address
// taken from the kubeconfig is what the management cluster cannot reach;
// the command says so (and the request then fails here).
func TestCreateRemoteSecretLoopbackWarning(t *testing.T) {
	kc := unreachableKubeconfig(t)
	_, _, errOut := causeway(t, "create-remote-secret", "--kubeconfig", kc, "--name", "c1", "--timeout", "10s")
	if !strings.Contains(errOut, "warning: context c1: API server https://127.0.0.1:1 is a loopback address") {
		t.Errorf("no loopback warning in:\n%s", errOut)
	}
}
