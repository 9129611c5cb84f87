package e2ekube

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// staleAfter is `causeway serve --stale-after`: short, so the outage test
// sees endpoints go stale within seconds.
const staleAfter = 3 * time.Second

// controlPlane is one `causeway serve` in kube mode.
type controlPlane struct {
	proc        *e2eutil.Process
	dir         string
	xdsAddr     string
	metricsAddr string
	// caDir is serve's --ca-dir: the test issues proxies' xDS client
	// certificates from it, since serve accepts only authenticated proxies.
	caDir string
}

// startCauseway writes the clusters file (cluster-1 only; cluster-2 comes
// from a Secret) next to a copy of cluster-1's kubeconfig, starts `causeway
// serve` against the management cluster and waits until /readyz answers 200.
func startCauseway(t *testing.T, managementKubeconfig, cluster1Kubeconfig string) *controlPlane {
	t.Helper()
	cp := &controlPlane{dir: t.TempDir()}
	kc, err := os.ReadFile(cluster1Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	// Relative to the clusters file, as the file format documents.
	if err := os.WriteFile(filepath.Join(cp.dir, "cluster-1.kubeconfig"), kc, 0o600); err != nil {
		t.Fatal(err)
	}
	clusters := `clusters:
- name: cluster-1
  kubeconfig: cluster-1.kubeconfig
  network: network-1
  locality: {region: us-east, zone: us-east-1c}
  eastWestGateways: [{address: 127.0.21.100, port: 15443}]
`
	clustersPath := filepath.Join(cp.dir, "clusters.yaml")
	if err := os.WriteFile(clustersPath, []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	cp.xdsAddr = "127.0.0.1:" + e2eutil.FreePort(t)
	cp.metricsAddr = "127.0.0.1:" + e2eutil.FreePort(t)
	cp.caDir = filepath.Join(cp.dir, "ca")
	start := time.Now()
	cp.proc = e2eutil.Start(t, "causeway serve", filepath.Join(cp.dir, "causeway.log"), causewayBin, "serve",
		"--clusters", clustersPath,
		"--management-kubeconfig", managementKubeconfig,
		"--namespace", controlNamespace,
		"--stale-after", staleAfter.String(),
		"--sync-timeout", "30s",
		"--xds-address", cp.xdsAddr,
		"--metrics-address", cp.metricsAddr,
		"--ca-dir", cp.caDir,
		"--log-level", "debug")
	t.Cleanup(func() { cp.dumpOnFailure(t) })
	if err := e2eutil.Eventually(45*time.Second, 100*time.Millisecond, func() error {
		if cp.proc.Exited() {
			return fmt.Errorf("causeway serve exited")
		}
		return e2eutil.HTTPOK("http://" + cp.metricsAddr + "/readyz")
	}); err != nil {
		t.Fatalf("causeway serve not ready: %v\n%s", err, e2eutil.Indent(cp.proc.LogTail(40)))
	}
	t.Logf("causeway serve ready (/readyz 200) %v after start", time.Since(start).Round(time.Millisecond))
	return cp
}

// dumpOnFailure logs the tail of causeway's log when t failed, and with
// CAUSEWAY_E2E_ARTIFACTS set copies the whole log there.
func (cp *controlPlane) dumpOnFailure(t *testing.T) {
	if t.Failed() {
		t.Logf("--- causeway serve log tail:\n%s", e2eutil.Indent(cp.proc.LogTail(60)))
	}
	e2eutil.CopyToArtifacts(t, cp.proc.LogPath, "causeway.log")
}

// logOffset is the current size of causeway's log, for logSince.
func (cp *controlPlane) logOffset() int64 {
	fi, err := os.Stat(cp.proc.LogPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logSince returns the last n lines causeway logged after offset.
func (cp *controlPlane) logSince(offset int64, n int) string {
	data, err := os.ReadFile(cp.proc.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", cp.proc.LogPath, err)
	}
	if offset > int64(len(data)) {
		offset = 0
	}
	lines := strings.Split(strings.TrimRight(string(data[offset:]), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("(%d earlier lines left out)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// metric returns the value of the sample named exactly sample (name and
// labels as Prometheus' text format prints them, e.g.
// `causeway_cluster_stale{cluster="cluster-2"}`), or an error when absent.
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
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			return strconv.ParseFloat(strings.Fields(rest)[0], 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no sample %s in /metrics", sample)
}

// awaitMetric waits at most timeout until sample has value want.
func (cp *controlPlane) awaitMetric(t *testing.T, timeout time.Duration, sample string, want float64) {
	t.Helper()
	err := e2eutil.Eventually(timeout, 100*time.Millisecond, func() error {
		got, err := cp.metric(sample)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s = %v, want %v", sample, got, want)
		}
		return nil
	})
	if err != nil {
		t.Errorf("within %v: %v", timeout, err)
	}
}
