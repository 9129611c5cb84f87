package e2eonboard

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// controlPlane is one `causeway serve` in Kubernetes mode.
type controlPlane struct {
	proc                 *e2eutil.Process
	xdsAddr, metricsAddr string
	caDir                string
}

// startServe starts `causeway serve` against the management cluster with
// no clusters file, so every workload cluster comes from a Secret, and
// waits until /readyz answers 200.
func startServe(t *testing.T, managementKubeconfig string) *controlPlane {
	t.Helper()
	dir := t.TempDir()
	cp := &controlPlane{
		xdsAddr:     "127.0.85.1:" + e2eutil.FreePort(t),
		metricsAddr: "127.0.85.1:" + e2eutil.FreePort(t),
		caDir:       filepath.Join(dir, "ca"),
	}
	cp.proc = e2eutil.Start(t, "causeway serve", filepath.Join(dir, "causeway.log"), causewayBin, "serve",
		"--management-kubeconfig", managementKubeconfig,
		"--namespace", controlNamespace,
		"--sync-timeout", "30s",
		"--xds-address", cp.xdsAddr,
		"--metrics-address", cp.metricsAddr,
		"--ca-dir", cp.caDir,
		"--log-level", "debug")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- causeway serve log tail:\n%s", e2eutil.Indent(cp.proc.LogTail(60)))
		}
		e2eutil.CopyToArtifacts(t, cp.proc.LogPath, "causeway.log")
	})
	if err := e2eutil.Eventually(45*time.Second, 100*time.Millisecond, func() error {
		if cp.proc.Exited() {
			return fmt.Errorf("causeway serve exited")
		}
		return e2eutil.HTTPOK("http://" + cp.metricsAddr + "/readyz")
	}); err != nil {
		t.Fatalf("causeway serve not ready: %v\n%s", err, e2eutil.Indent(cp.proc.LogTail(40)))
	}
	return cp
}

// metricIs checks that /metrics has the sample (name and labels as the
// text format prints them) with value want.
func (cp *controlPlane) metricIs(sample, want string) error {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + cp.metricsAddr + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			if rest != want {
				return fmt.Errorf("%s = %s, want %s", sample, rest, want)
			}
			return nil
		}
	}
	return fmt.Errorf("no sample %s in /metrics", sample)
}
