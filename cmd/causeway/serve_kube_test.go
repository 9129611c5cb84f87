package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

func TestServeKubeFlagErrors(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // not in a cluster, whatever runs the test
	dir := t.TempDir()
	mgmt := filepath.Join(dir, "mgmt.kubeconfig")
	if err := os.WriteFile(mgmt, []byte(`apiVersion: v1
kind: Config
clusters: [{name: m, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: m, user: {token: t}}]
contexts: [{name: m, context: {cluster: m, user: m}}]
current-context: m
`), 0o600); err != nil {
		t.Fatal(err)
	}
	badClusters := filepath.Join(dir, "clusters.yaml")
	if err := os.WriteFile(badClusters, []byte("clusters:\n- {name: c1, kubeconfig: c1.kubeconfig, eastWestGateways: [{address: nope}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{"world excludes Kubernetes flags", []string{"--world", "testdata/world.yaml", "--clusters", badClusters}, 1,
			[]string{"--world and --clusters are exclusive"}},
		{"world excludes --leader-elect too", []string{"--world", "testdata/world.yaml", "--leader-elect=false"}, 1,
			[]string{"--world and --leader-elect are exclusive"}},
		{"no management cluster", nil, 1, []string{"--management-kubeconfig", "--world"}},
		{"bad management kubeconfig", []string{"--management-kubeconfig", filepath.Join(dir, "missing")}, 1,
			[]string{"--management-kubeconfig", "missing"}},
		{"bad clusters file", []string{"--management-kubeconfig", mgmt, "--clusters", badClusters}, 2,
			[]string{"clusters.yaml", "eastWestGateways[0].address"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--xds-address", freeAddr(t), "--metrics-address", freeAddr(t),
				"--ca-dir", filepath.Join(t.TempDir(), "ca")}, tc.args...)
			code, _, errOut := causeway(t, args...)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.wantCode, errOut)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr %q lacks %q", errOut, s)
				}
			}
		})
	}
}

// httpGet fetches url once.
func httpGet(url string) (int, string, error) {
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// waitHTTP polls url every 50ms until check accepts the answer, failing
// after timeout.
func waitHTTP(t *testing.T, url string, timeout time.Duration, check func(code int, body string) error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body, err := httpGet(url)
		if err == nil {
			err = check(code, body)
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: not within %v: %v", url, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeKube runs `causeway serve` in Kubernetes mode against real API
// servers: /readyz stays 503 while a workload cluster has never synced and
// turns 200 once it has; the sync metrics say so; the status writer takes
// the Lease.
func TestServeKube(t *testing.T) {
	env := kubeenv.Start(t, "management", "cluster-1")
	env.InstallCRDs(t, "management")
	ctx, cancelCtx := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelCtx()
	mgmt := env.Cluster("management").Clientset()
	if _, err := mgmt.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "causeway-system"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clusters := filepath.Join(t.TempDir(), "clusters.yaml")
	if err := os.WriteFile(clusters, []byte(fmt.Sprintf("clusters:\n- {name: cluster-1, kubeconfig: %s}\n", env.Cluster("cluster-1").KubeconfigPath)), 0o600); err != nil {
		t.Fatal(err)
	}
	c1 := env.Cluster("cluster-1")
	t.Cleanup(func() { _ = c1.Start() })
	if err := c1.Stop(); err != nil {
		t.Fatal(err)
	}

	f := &serveFlags{
		xdsAddress: freeAddr(t), metricsAddress: freeAddr(t),
		caDir: filepath.Join(t.TempDir(), "ca"), trustDomain: "causeway.local", logLevel: "info",
		kube: kubeFlags{
			clusters: clusters, managementKubeconfig: env.Cluster("management").KubeconfigPath, namespace: "causeway-system",
			syncTimeout: time.Minute, leaderElect: true, leaseName: "causeway-status",
		},
		registry: newMetricsRegistry(),
	}
	defer serveInBackground(ctx, t, f)()

	base := "http://" + f.metricsAddress
	metricIs := func(want ...string) func(int, string) error {
		return func(_ int, body string) error {
			for _, w := range want {
				if !strings.Contains(body, w+"\n") {
					return fmt.Errorf("/metrics lacks %q", w)
				}
			}
			return nil
		}
	}
	waitHTTP(t, base+"/metrics", 30*time.Second, metricIs(`causeway_management_synced 1`, `causeway_cluster_synced{cluster="cluster-1"} 0`))
	// Discovery's and the status writer's metrics as well as the xDS server's.
	checkLabelConvention(t, f.registry)
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if code, body, err := httpGet(base + "/readyz"); err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz while cluster-1 never synced: %d %q %v, want 503", code, body, err)
		}
	}
	if got, _, _ := httpGet(base + "/healthz"); got != http.StatusOK {
		t.Errorf("/healthz %d while not ready, want 200", got)
	}

	if err := c1.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	waitHTTP(t, base+"/readyz", 45*time.Second, func(code int, body string) error {
		if code != http.StatusOK {
			return fmt.Errorf("%d %q", code, body)
		}
		return nil
	})
	t.Logf("/readyz 200 %v after cluster-1's API server came up", time.Since(started).Round(time.Millisecond))
	waitHTTP(t, base+"/metrics", 5*time.Second, metricIs(`causeway_cluster_synced{cluster="cluster-1"} 1`, `causeway_cluster_reachable{cluster="cluster-1"} 1`))

	// The status writer starts with the first published world and takes
	// the Lease.
	deadline := time.Now().Add(30 * time.Second)
	for {
		lease, err := mgmt.CoordinationV1().Leases("causeway-system").Get(ctx, "causeway-status", metav1.GetOptions{})
		if err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status writer Lease not held within 30s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
