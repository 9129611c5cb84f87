package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// xdsPort is where serve listens for xDS on the node address; the node
// network is this package's alone, so a fixed port cannot collide.
const xdsPort = 18000

// serveReadyTimeout bounds serve's start until /readyz: its first sync of
// the one cluster, with the controllers and the node agent busy.
const serveReadyTimeout = 90 * time.Second

// controlPlane is the `causeway serve` under test.
type controlPlane struct {
	proc        *e2eutil.Process
	xdsAddr     string
	metricsAddr string
}

// startServe builds ./cmd/causeway and runs `causeway serve` as a user
// would in Kubernetes mode: the cluster is both the management cluster
// (the kubeconfig) and the one workload cluster (the clusters file names
// it), xDS is TLS on the node address, where the provisioned Envoy Pods
// reach it (--provision-xds-address) and authenticate with their projected
// service-account tokens, and one replica elects itself status writer and
// provisioner through the Lease.
func startServe(t *testing.T, cluster *kubeenv.Cluster, nodeAddr netip.Addr) *controlPlane {
	t.Helper()
	bins, remove, err := e2eutil.BuildCommands("causeway-conformance-bin-", "causeway")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(remove)
	dir := t.TempDir()
	kc, err := os.ReadFile(cluster.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	// The clusters file names kubeconfigs relative to itself.
	if err := os.WriteFile(filepath.Join(dir, clusterName+".kubeconfig"), kc, 0o600); err != nil {
		t.Fatal(err)
	}
	clusters := fmt.Sprintf("clusters:\n- {name: %s, kubeconfig: %s.kubeconfig}\n", clusterName, clusterName)
	clustersPath := filepath.Join(dir, "clusters.yaml")
	if err := os.WriteFile(clustersPath, []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	cp := &controlPlane{
		xdsAddr:     netip.AddrPortFrom(nodeAddr, xdsPort).String(),
		metricsAddr: "127.0.0.1:" + e2eutil.FreePort(t),
	}
	start := time.Now()
	cp.proc = e2eutil.Start(t, "causeway serve", filepath.Join(dir, "causeway.log"), bins[0], "serve",
		"--clusters", clustersPath,
		"--management-kubeconfig", cluster.KubeconfigPath,
		"--namespace", controlNamespace,
		"--xds-address", cp.xdsAddr,
		"--provision-xds-address", cp.xdsAddr,
		"--metrics-address", cp.metricsAddr,
		"--ca-dir", filepath.Join(dir, "ca"),
		"--log-level", "debug")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- causeway serve log tail (%s):\n%s", cp.proc.LogPath, e2eutil.Indent(cp.proc.LogTail(80)))
		}
		e2eutil.CopyToArtifacts(t, cp.proc.LogPath, "causeway.log")
	})
	if err := e2eutil.Eventually(serveReadyTimeout, 200*time.Millisecond, func() error {
		if cp.proc.Exited() {
			return errors.New("causeway serve exited")
		}
		return e2eutil.HTTPOK("http://" + cp.metricsAddr + "/readyz")
	}); err != nil {
		t.Fatalf("causeway serve not ready: %v\n%s", err, e2eutil.Indent(cp.proc.LogTail(40)))
	}
	t.Logf("causeway serve ready in %v (xDS %s, metrics %s)", time.Since(start).Round(time.Millisecond), cp.xdsAddr, cp.metricsAddr)
	return cp
}

// metric returns the sample named exactly sample (name and labels as
// Prometheus' text format prints them, labels sorted), or an error when
// serve does not export it.
func (cp *controlPlane) metric(sample string) (float64, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + cp.metricsAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			return strconv.ParseFloat(strings.Fields(rest)[0], 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no sample %s in /metrics", sample)
}

// nonZero returns the samples of the named metrics whose value is not 0,
// one per line, for messages; "" when there are none.
func (cp *controlPlane) nonZero(names ...string) string {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + cp.metricsAddr + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(line, "#") {
			continue
		}
		for _, n := range names {
			if f[0] == n || strings.HasPrefix(f[0], n+"{") {
				if v, err := strconv.ParseFloat(f[len(f)-1], 64); err != nil || v != 0 {
					out = append(out, line)
				}
			}
		}
	}
	return strings.Join(out, "\n")
}
