package envoyrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"
)

// findOrSkip returns the Envoy binary or skips, unless CAUSEWAY_REQUIRE_E2E=1.
func findOrSkip(t *testing.T) string {
	t.Helper()
	bin, err := Find()
	if err != nil {
		if os.Getenv("CAUSEWAY_REQUIRE_E2E") == "1" {
			t.Fatalf("CAUSEWAY_REQUIRE_E2E=1 but %v", err)
		}
		t.Skipf("skipping: real Envoy needed: %v", err)
	}
	return bin
}

func freePort(t *testing.T, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

const staticBootstrap = `
admin:
  address: {socket_address: {address: %[1]s, port_value: %[2]d}}
static_resources:
  listeners:
  - name: hello
    address: {socket_address: {address: %[1]s, port_value: %[3]d}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: hello
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: /}
                direct_response: {status: 200, body: {inline_string: "hello from envoy"}}
`

func TestStartServeStop(t *testing.T) {
	bin := findOrSkip(t)
	const host = "127.0.0.21"
	adminPort, listenPort := freePort(t, host), freePort(t, host)
	admin := fmt.Sprintf("%s:%d", host, adminPort)
	e, err := Start(Options{
		Binary:       bin,
		Bootstrap:    []byte(fmt.Sprintf(staticBootstrap, host, adminPort, listenPort)),
		AdminAddress: admin,
		Dir:          t.TempDir(),
		Name:         "hello",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop() })
	if a := e.cmd.SysProcAttr; a == nil || !a.Setpgid || a.Pdeathsig != syscall.SIGKILL {
		t.Errorf("SysProcAttr = %+v, want its own process group and Pdeathsig SIGKILL", a)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(fmt.Sprintf("http://%s:%d/", host, listenPort))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello from envoy" {
		t.Fatalf("GET through Envoy = %d %q", resp.StatusCode, body)
	}

	stats, err := e.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats["http.hello.downstream_rq_completed"]; got < 1 {
		t.Errorf("http.hello.downstream_rq_completed = %d, want >= 1 (stats read: %d)", got, len(stats))
	}

	pid := e.Pid()
	if err := e.Stop(); err != nil {
		t.Fatal(err)
	}
	// Stop reaped the process, so the PID no longer names it.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) after Stop = %v, want ESRCH", pid, err)
	}
	if err := e.Stop(); err != nil {
		t.Errorf("second Stop = %v", err)
	}
}

func TestWaitReadyReportsEarlyExit(t *testing.T) {
	bin := findOrSkip(t)
	e, err := Start(Options{
		Binary:       bin,
		Bootstrap:    []byte("this: is: not: a bootstrap"),
		AdminAddress: "127.0.0.21:1",
		Dir:          t.TempDir(),
		Name:         "broken",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.WaitReady(ctx); err == nil {
		t.Fatal("WaitReady succeeded for an Envoy with a broken bootstrap")
	}
	if !e.Exited() {
		t.Error("Envoy with a broken bootstrap still running")
	}
}

func TestParseStats(t *testing.T) {
	j := []byte(`{"stats":[{"name":"a.update_rejected","value":0},{"name":"b.update_success","value":3},{"histograms":{}}]}`)
	m, err := parseJSONStats(j)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["a.update_rejected"] != 0 || m["b.update_success"] != 3 {
		t.Errorf("json stats = %v", m)
	}
	m, err = parseTextStats([]byte("a.update_rejected: 0\nb.update_success: 3\nh.hist: P0(nan,1) P25(nan,2)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["b.update_success"] != 3 {
		t.Errorf("text stats = %v", m)
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\nc", 5, "a\nb\nc"},
		{"", 3, ""},
	} {
		if got := tail([]byte(tc.in), tc.n); got != tc.want {
			t.Errorf("tail(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
