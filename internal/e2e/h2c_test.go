package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// TestH2CBackend runs cleartext HTTP/2 through a real gateway Envoy, as the
// Gateway API's HTTPRouteBackendProtocolH2C test does: a Service port with
// appProtocol kubernetes.io/h2c is reached with HTTP/2 prior knowledge (its
// backend speaks nothing else, so HTTP/1.1 would fail), whether the client
// speaks HTTP/1.1 or h2c to the gateway; and an h2c client reaches a plain
// HTTP/1.1 backend too, the gateway listener taking either protocol.
func TestH2CBackend(t *testing.T) {
	startH2COnlyBackend(t, h2cBackendAddress)
	top := startMesh(t, meshSpec{world: []byte(h2cWorld), backends: h2cBackends, proxies: h2cProxies})

	for _, tc := range []struct {
		name, client, host     string
		wantClient, wantServer string
	}{
		{"H2CClientToH2CBackend", "h2c", h2cHost, "HTTP/2.0", "HTTP/2.0"},
		{"HTTP1ClientToH2CBackend", "http1", h2cHost, "HTTP/1.1", "HTTP/2.0"},
		{"H2CClientToHTTP1Backend", "h2c", h2cPlainHost, "HTTP/2.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := h2cClients[tc.client]
			var resp *http.Response
			var body []byte
			if err := e2eutil.Eventually(20*time.Second, 200*time.Millisecond, func() error {
				var err error
				resp, body, err = h2cGet(client, tc.host)
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %s: %s", resp.Status, body)
				}
				return err
			}); err != nil {
				t.Fatalf("GET through the gateway with Host %s (%s client): %v", tc.host, tc.client, err)
			}
			if resp.Proto != tc.wantClient {
				t.Errorf("gateway answered the %s client over %s, want %s", tc.client, resp.Proto, tc.wantClient)
			}
			if tc.wantServer == "" {
				return
			}
			var echo h2cEcho
			if err := json.Unmarshal(body, &echo); err != nil {
				t.Fatalf("h2c backend body %q: %v", body, err)
			}
			t.Logf("%s client: gateway answered over %s, backend saw %s", tc.client, resp.Proto, echo.Proto)
			if echo.Proto != tc.wantServer {
				t.Errorf("backend saw %s, want %s", echo.Proto, tc.wantServer)
			}
		})
	}
	t.Run("NoEnvoyRejectedAnUpdate", func(t *testing.T) { e2eutil.CheckNoRejectedUpdates(t, top.envoys) })
}

// h2cEcho is what the h2c-only backend answers: the protocol the request
// arrived over.
type h2cEcho struct {
	Proto string `json:"proto"`
}

// startH2COnlyBackend serves cleartext HTTP/2 with prior knowledge only on
// addr: an HTTP/1.1 request (what the gateway would send without the
// Service's appProtocol) is refused at the connection.
func startH2COnlyBackend(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("h2c backend: %v", err)
	}
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Protocols:         protocols,
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(h2cEcho{Proto: r.Proto})
		}),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("h2c backend: %v", err)
		}
	})
}

// h2cClients speak to the gateway with HTTP/2 prior knowledge ("h2c", as
// the conformance suite's H2C_PRIOR_KNOWLEDGE round tripper does) or with
// HTTP/1.1 only.
var h2cClients = map[string]*http.Client{
	"h2c":   {Timeout: 5 * time.Second, Transport: transportSpeaking(func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) })},
	"http1": {Timeout: 5 * time.Second, Transport: transportSpeaking(func(p *http.Protocols) { p.SetHTTP1(true) })},
}

func transportSpeaking(set func(*http.Protocols)) *http.Transport {
	p := new(http.Protocols)
	set(p)
	return &http.Transport{Protocols: p, DisableKeepAlives: true}
}

// h2cGet sends GET / with Host host to the gateway and reads the answer.
func h2cGet(c *http.Client, host string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s:%d/", h2cGatewayAddress, h2cGatewayPort), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}
