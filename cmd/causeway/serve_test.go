package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// get fetches url, retrying for at most 10 seconds until it answers 200.
func get(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body)
			}
			err = &httpStatusError{resp.Status}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type httpStatusError struct{ status string }

func (e *httpStatusError) Error() string { return e.status }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServe(t *testing.T) {
	f := &serveFlags{
		world: "testdata/world.yaml", xdsAddress: freeAddr(t), metricsAddress: freeAddr(t),
		caDir: filepath.Join(t.TempDir(), "ca"), trustDomain: "causeway.local", logLevel: "info",
		registry: newMetricsRegistry(),
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, f, &logs) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("runServe: %v\nlogs:\n%s", err, logs.String())
			}
		case <-time.After(15 * time.Second):
			t.Errorf("runServe did not stop after cancel; logs:\n%s", logs.String())
		}
	}()

	if got := get(t, "http://"+f.metricsAddress+"/healthz"); got != "ok\n" {
		t.Errorf("/healthz = %q", got)
	}
	// World mode is ready once the world loaded, which precedes serving.
	if code, body, err := httpGet("http://" + f.metricsAddress + "/readyz"); err != nil || code != 200 || body != "ok\n" {
		t.Errorf("/readyz = %d %q %v, want 200 ok", code, body, err)
	}
	metrics := get(t, "http://"+f.metricsAddress+"/metrics")
	bi := currentBuildInfo()
	buildInfo := fmt.Sprintf(`causeway_build_info{goversion=%q,revision=%q,version=%q} 1`, bi.GoVersion, bi.revisionText(), bi.Version)
	for _, want := range []string{"causeway_world_last_load_success 1", `causeway_world_reloads_total{result="success"}`, "go_goroutines", buildInfo} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	conn, err := net.DialTimeout("tcp", f.xdsAddress, time.Second)
	if err != nil {
		t.Fatalf("xDS address not listening: %v", err)
	}
	conn.Close()
	if _, err := os.Stat(filepath.Join(f.caDir, "root.pem")); err != nil {
		t.Errorf("CA root not persisted: %v", err)
	}
	// Every metric world mode registers, series or not (the Kubernetes
	// mode ones: TestServeKube).
	checkLabelConvention(t, f.registry)
}

func TestServeInvalidWorld(t *testing.T) {
	path := writeWorld(t, "kind: Nope\n")
	code, _, errOut := causeway(t, "serve", "--world", path, "--xds-address", freeAddr(t), "--metrics-address", freeAddr(t),
		"--ca-dir", filepath.Join(t.TempDir(), "ca"))
	if code != 2 || !strings.Contains(errOut, "document 1") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming document 1", code, errOut)
	}
}

// TestServeEmptyWorld: serve does not start on a world file without
// documents, as on an invalid one.
func TestServeEmptyWorld(t *testing.T) {
	path := writeWorld(t, "# to be written\n")
	type result struct {
		code   int
		errOut string
	}
	done := make(chan result, 1)
	args := []string{"serve", "--world", path, "--xds-address", freeAddr(t), "--metrics-address", freeAddr(t), "--ca-dir", filepath.Join(t.TempDir(), "ca")}
	go func() {
		var out, errOut bytes.Buffer
		done <- result{run(args, &out, &errOut), errOut.String()}
	}()
	var code int
	var errOut string
	select {
	case r := <-done:
		code, errOut = r.code, r.errOut
	case <-time.After(30 * time.Second):
		t.Fatal("serve started on a world file without documents")
	}
	if code != 2 || !strings.Contains(errOut, "the world file has no documents") {
		t.Errorf("exit %d, stderr %q; want exit 2 saying the world file has no documents", code, errOut)
	}
}

func TestServeWorldGuardFlags(t *testing.T) {
	path := writeWorld(t, "apiVersion: world.causeway.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\nspec: {}\n")
	for _, args := range [][]string{
		{"--world-shrink-threshold", "101"},
		{"--world-shrink-threshold", "-1"},
		{"--world-confirm-delay", "-1s"},
	} {
		code, _, errOut := causeway(t, append([]string{"serve", "--world", path, "--xds-address", freeAddr(t), "--metrics-address", freeAddr(t),
			"--ca-dir", filepath.Join(t.TempDir(), "ca")}, args...)...)
		if code == 0 || !strings.Contains(errOut, "--world-shrink-threshold, --world-confirm-delay") {
			t.Errorf("%v: exit %d, stderr %q; want an error naming the flags", args, code, errOut)
		}
	}
}

// TestServeStopsOnSIGTERM runs the real binary, since signals cannot be
// sent to the test process safely.
func TestServeStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "causeway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	metrics := freeAddr(t)
	var logs lockedBuffer
	cmd := exec.Command(bin, "serve", "--world", "testdata/world.yaml", "--xds-address", freeAddr(t),
		"--metrics-address", metrics, "--ca-dir", filepath.Join(t.TempDir(), "ca"))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited := false
	defer func() {
		if !waited {
			_ = cmd.Process.Kill() // by PID; only on failure paths
			<-exited
		}
	}()
	get(t, "http://"+metrics+"/healthz")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		waited = true
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\nlogs:\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15s after SIGTERM; logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "causeway stopped") {
		t.Errorf("no clean stop logged:\n%s", logs.String())
	}
}

// serveInBackground runs `serve` with f until stop is called (at the
// latest when the test ends): it is then cancelled and must return within
// 20 s without an error; its logs are printed when the test failed.
func serveInBackground(ctx context.Context, t *testing.T, f *serveFlags) (stop func()) {
	t.Helper()
	var logs lockedBuffer
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runServe(runCtx, f, &logs) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("runServe: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("runServe did not stop 20s after cancel")
			}
			if t.Failed() {
				t.Logf("logs:\n%s", logs.String())
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
