package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// TestWebSocketAndCORS runs WebSocket upgrades and CORS through a real
// gateway Envoy: echoes over WebSocket to a local Service and, through the
// east-west gateway, to a remote one; CORS preflights and simple requests
// from allowed and disallowed origins.
func TestWebSocketAndCORS(t *testing.T) {
	top := startMesh(t, meshSpec{world: []byte(wsWorld), backends: wsBackends, proxies: wsProxies})
	gw, ew := top.envoys[wsProxies[0].Name], top.envoys[wsProxies[1].Name]

	t.Run("LocalServiceEcho", func(t *testing.T) { testWebSocketEcho(t, wsLocalHost) })
	t.Run("RemoteVirtualDestinationEcho", func(t *testing.T) {
		before := tcpConnections(t, ew, "echo-remote.mesh.internal")
		testWebSocketEcho(t, wsRemoteHost)
		if after := tcpConnections(t, ew, "echo-remote.mesh.internal"); after <= before {
			t.Errorf("east-west gateway connections to echo-remote: %d before, %d after; the upgrade did not cross it", before, after)
		}
		// Upgrades need HTTP/1.1 to the backend, through the east-west tunnel too.
		stats := envoyStats(t, gw)
		h1, h2 := clusterStat(stats, "echo-remote.mesh.internal", "upstream_cx_http1_total"), clusterStat(stats, "echo-remote.mesh.internal", "upstream_cx_http2_total")
		t.Logf("gateway to echo-remote: %d HTTP/1.1 connections, %d HTTP/2", h1, h2)
		if h1 == 0 || h2 != 0 {
			t.Errorf("gateway to echo-remote: %d HTTP/1.1 and %d HTTP/2 connections, want HTTP/1.1 only", h1, h2)
		}
	})
	t.Run("CORSPreflightAllowed", func(t *testing.T) { testCORSPreflightAllowed(t) })
	t.Run("CORSPreflightDisallowedOrigin", func(t *testing.T) { testCORSPreflightDisallowed(t) })
	t.Run("CORSSimpleRequests", func(t *testing.T) { testCORSSimple(t) })
	t.Run("ConnectionOutlivesRouteTimeout", testWebSocketOutlivesRouteTimeout)
	t.Run("NoEnvoyRejectedAnUpdate", func(t *testing.T) { e2eutil.CheckNoRejectedUpdates(t, top.envoys) })
}

// testWebSocketEcho dials ws:// through the gateway with Host host (once
// the route is there) and checks text and binary echoes.
func testWebSocketEcho(t *testing.T, host string) {
	c := dialWebSocket(t, host)
	defer c.CloseNow()
	echoes(t, c, host, 20)
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
}

// testWebSocketOutlivesRouteTimeout: an upgraded connection is cut
// neither by Envoy's default route timeout (15 s) nor by a rule's
// timeouts.request (2 s): they bound only the upgrade request.
func testWebSocketOutlivesRouteTimeout(t *testing.T) {
	conns := map[string]*websocket.Conn{}
	for _, host := range []string{wsLocalHost, wsTimeoutHost} {
		c := dialWebSocket(t, host)
		defer c.CloseNow()
		echoes(t, c, host, 2)
		conns[host] = c
	}
	time.Sleep(envoyDefaultRouteTimeout + time.Second)
	for host, c := range conns {
		echoes(t, c, host, 2)
	}
}

// envoyDefaultRouteTimeout is Envoy's route timeout when a route sets none.
const envoyDefaultRouteTimeout = 15 * time.Second

// dialWebSocket opens a WebSocket to the echo backend through the gateway
// with Host host, retrying while the route and endpoints are on their way.
func dialWebSocket(t *testing.T, host string) *websocket.Conn {
	t.Helper()
	url := fmt.Sprintf("ws://%s:%d%s", wsGatewayAddress, wsGatewayPort, backend.WebSocketPath)
	var c *websocket.Conn
	if err := e2eutil.Eventually(20*time.Second, 200*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Host: host})
		if err != nil {
			if resp != nil {
				return fmt.Errorf("%v (status %s)", err, resp.Status)
			}
			return err
		}
		c = conn
		return nil
	}); err != nil {
		t.Fatalf("WebSocket dial %s with Host %s: %v", url, host, err)
	}
	return c
}

// echoes sends n messages, text and binary in turn, each awaiting its echo.
func echoes(t *testing.T, c *websocket.Conn, host string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range n {
		typ, msg := websocket.MessageText, []byte(fmt.Sprintf("message %d to %s", i, host))
		if i%2 == 1 {
			typ, msg = websocket.MessageBinary, []byte{byte(i), 0, 255, byte(i)}
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		gotTyp, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if gotTyp != typ || !bytes.Equal(got, msg) {
			t.Fatalf("echo %d = %v %q, want %v %q", i, gotTyp, got, typ, msg)
		}
	}
}

// corsRequest sends method path to the CORS route with headers, through
// the gateway.
func corsRequest(t *testing.T, method, path string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("http://%s:%d%s", wsGatewayAddress, wsGatewayPort, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = corsHost
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := gatewayClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func preflight(origin string) map[string]string {
	return map[string]string{"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-custom"}
}

// testCORSPreflightAllowed: Envoy answers preflights from allowed origins
// (exact and wildcard) itself with the route's Access-Control-* headers.
func testCORSPreflightAllowed(t *testing.T) {
	// The simple GET first: it waits for the route to arrive.
	if err := e2eutil.Eventually(20*time.Second, 200*time.Millisecond, func() error {
		_, err := e2eutil.GetBackend(gatewayClient, wsRequest(t, http.MethodGet, "/open", corsHost))
		return err
	}); err != nil {
		t.Fatalf("the CORS route never answered: %v", err)
	}
	for _, origin := range []string{corsOrigin, "https://a.b.trusted.example"} {
		resp := corsRequest(t, http.MethodOptions, "/api/items", preflight(origin))
		want := map[string]string{
			"Access-Control-Allow-Origin":      origin,
			"Access-Control-Allow-Methods":     "GET,PUT",
			"Access-Control-Allow-Headers":     "x-custom",
			"Access-Control-Max-Age":           "600",
			"Access-Control-Allow-Credentials": "true",
		}
		t.Logf("preflight from %s: %s %v", origin, resp.Status, corsHeaders(resp.Header))
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
			t.Errorf("preflight from %s: %s, want 200 or 204", origin, resp.Status)
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("preflight from %s: %s = %q, want %q", origin, k, got, v)
			}
		}
		if resp.Header.Get("Content-Type") == "application/json" {
			t.Errorf("preflight from %s reached the backend; Envoy should answer it", origin)
		}
	}
}

// testCORSPreflightDisallowed: preflights from origins outside the list
// (including ones that only look like the wildcard's) are answered by
// Envoy, 200 without Access-Control-Allow-Origin, and never reach the
// backend (the conformance test HTTPRouteCORS checks that no echo comes
// back); a preflight to a rule without CORS goes to the backend and gets
// no CORS header at all.
func testCORSPreflightDisallowed(t *testing.T) {
	for _, tc := range []struct {
		origin, path string
		toBackend    bool
	}{
		{"https://evil.example", "/api/items", false},
		{"http://app.example", "/api/items", false},       // other scheme
		{"https://app.example:8443", "/api/items", false}, // other port
		{"https://trusted.example", "/api/items", false},  // the wildcard needs a label
		{"https://trusted.example.evil", "/api/items", false},
		{corsOrigin, "/open", true}, // no CORS filter on this rule
	} {
		resp := corsRequest(t, http.MethodOptions, tc.path, preflight(tc.origin))
		h := corsHeaders(resp.Header)
		t.Logf("preflight from %s to %s: %s %v", tc.origin, tc.path, resp.Status, h)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight from %s to %s: Access-Control-Allow-Origin %q, want none", tc.origin, tc.path, got)
		}
		fromBackend := resp.Header.Get("Content-Type") == "application/json"
		if resp.StatusCode != http.StatusOK || fromBackend != tc.toBackend {
			t.Errorf("preflight from %s to %s: %s, answered by the backend %v, want 200 from the backend %v",
				tc.origin, tc.path, resp.Status, fromBackend, tc.toBackend)
		}
		if tc.toBackend && len(h) != 0 {
			t.Errorf("preflight from %s to %s: got CORS headers %v, want none", tc.origin, tc.path, h)
		}
	}
}

// testCORSSimple: a simple cross-origin GET reaches the backend; the
// response carries the allow and expose headers only for allowed origins.
func testCORSSimple(t *testing.T) {
	for _, tc := range []struct {
		origin  string
		allowed bool
	}{{corsOrigin, true}, {"https://x.trusted.example", true}, {"https://evil.example", false}} {
		req := wsRequest(t, http.MethodGet, "/api/items", corsHost)
		req.Header.Set("Origin", tc.origin)
		resp, err := gatewayClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := corsHeaders(resp.Header)
		t.Logf("GET from %s: %s %v", tc.origin, resp.Status, h)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET from %s: %s, want 200 from the backend", tc.origin, resp.Status)
		}
		if !tc.allowed {
			if len(h) != 0 {
				t.Errorf("GET from %s: CORS headers %v, want none", tc.origin, h)
			}
			continue
		}
		for k, v := range map[string]string{
			"Access-Control-Allow-Origin":      tc.origin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers":    "x-served-by",
		} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET from %s: %s = %q, want %q", tc.origin, k, got, v)
			}
		}
	}
}

func wsRequest(t *testing.T, method, path, host string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("http://%s:%d%s", wsGatewayAddress, wsGatewayPort, path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	return req
}

// corsHeaders are h's Access-Control-* headers.
func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = h.Get(k)
		}
	}
	return out
}

// tcpConnections sums e's TCP proxy downstream connections whose stat
// prefix names host (the east-west chains are named after the cluster).
func tcpConnections(t *testing.T, e *envoyrun.Envoy, host string) uint64 {
	t.Helper()
	var n uint64
	for name, v := range envoyStats(t, e) {
		if strings.HasPrefix(name, "tcp.") && strings.Contains(name, host) && strings.HasSuffix(name, ".downstream_cx_total") {
			n += v
		}
	}
	return n
}

// clusterStat sums stat over the clusters whose names contain host.
func clusterStat(stats map[string]uint64, host, stat string) uint64 {
	var n uint64
	for name, v := range stats {
		if strings.HasPrefix(name, "cluster.") && strings.Contains(name, host) && strings.HasSuffix(name, "."+stat) {
			n += v
		}
	}
	return n
}
