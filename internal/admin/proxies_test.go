package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

// fakeProxies is a fixed list of stream statuses (the xds package tests
// the real ones).
type fakeProxies []xds.ProxyStatus

func (f fakeProxies) ProxyStatuses() []xds.ProxyStatus { return f }

var connected = time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)

// gatewayStatus is a gateway stream with every type synced but listeners,
// which it NACKed.
func gatewayStatus(node string, id int64) xds.ProxyStatus {
	p := xds.ProxyStatus{
		StreamID: id, Delta: true, NodeID: node, Class: "gateway~cluster-1~web/web~us-east/us-east-1a/~127.0.82.1",
		Proxy: model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Gateway: "web/web", BindAddress: "127.0.82.1",
			Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}},
		ConnectedAt: connected, RemoteAddress: "127.0.0.1:40000",
	}
	for _, url := range []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.SecretType} {
		r := xds.Response{Version: "v1-" + url[len(url)-8:], Nonce: "1", At: connected.Add(time.Second)}
		ts := xds.TypeStatus{TypeURL: url, Requested: true, Sent: r, ACKed: r, Holds: r.Version, Current: r.Version, Sync: xds.Synced}
		if url == resource.ListenerType {
			ts.Sent = xds.Response{Version: "v2", Nonce: "2", At: connected.Add(2 * time.Second)}
			ts.NACKed, ts.NACKMessage = ts.Sent, "cannot bind '127.0.82.1:8081': Address already in use"
			ts.Current, ts.Sync = "v2", xds.NACKed
		}
		p.Types = append(p.Types, ts)
	}
	return p
}

func TestProxiesHandler(t *testing.T) {
	src := fakeProxies{gatewayStatus("gw/a~1", 2), gatewayStatus("gw/a~1", 1), gatewayStatus("gw-b", 3),
		{StreamID: 4, NodeID: "bad", Class: "invalid~bad", ConnectedAt: connected}}
	srv := httptest.NewServer(NewHandler(Options{Proxies: src}))
	defer srv.Close()
	c := Client{Address: strings.TrimPrefix(srv.URL, "http://")}
	ctx := context.Background()

	all, err := c.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Proxies) != 4 {
		t.Fatalf("%d proxies, want 4", len(all.Proxies))
	}
	gw := all.Proxies[0]
	if gw.Node != "gw/a~1" || gw.Stream != 2 || gw.Protocol != "delta" || gw.Role != "gateway" || gw.Cluster != "cluster-1" ||
		gw.Gateway != "web/web" || gw.Locality != "us-east/us-east-1a/" || gw.BindAddress != "127.0.82.1" ||
		!gw.ConnectedAt.Equal(connected) || gw.RemoteAddress != "127.0.0.1:40000" || len(gw.Types) != 5 {
		t.Errorf("first proxy: %+v", gw)
	}
	for _, ts := range gw.Types {
		want := map[string]string{"CDS": "SYNCED", "EDS": "SYNCED", "LDS": "NACKED", "RDS": "SYNCED", "SDS": "SYNCED"}[ts.Type]
		if ts.Sync != want || ts.Sent == nil || ts.ACKed == nil || ts.Current == "" {
			t.Errorf("%s: %+v; want %s with sent and ACKed responses", ts.Type, ts, want)
		}
		if ts.Type == "LDS" && (ts.NACKed == nil || ts.NACKed.Version != "v2" || !strings.Contains(ts.NACKed.Message, "Address already in use")) {
			t.Errorf("LDS NACK: %+v", ts.NACKed)
		}
		if ts.Type != "LDS" && ts.NACKed != nil {
			t.Errorf("%s: a NACK it never had: %+v", ts.Type, ts.NACKed)
		}
	}
	if bad := all.Proxies[3]; bad.Role != "" || bad.Locality != "" || bad.Protocol != "sotw" || len(bad.Types) != 0 {
		t.Errorf("invalid node: %+v", bad)
	}

	for _, tc := range []struct {
		node    string
		streams []int64
	}{
		{"gw/a~1", []int64{2, 1}}, // every stream of the node, as the source orders them
		{"gw-b", []int64{3}},
	} {
		one, err := c.Proxy(ctx, tc.node)
		if err != nil {
			t.Fatalf("%s: %v", tc.node, err)
		}
		var got []int64
		for _, p := range one.Proxies {
			if p.Node != tc.node {
				t.Errorf("%s: got node %q", tc.node, p.Node)
			}
			got = append(got, p.Stream)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.streams) {
			t.Errorf("%s: streams %v, want %v", tc.node, got, tc.streams)
		}
	}

	if _, err := c.Proxy(ctx, "nobody"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("unknown node: %v; want ErrNotFound naming it", err)
	}
	resp, err := http.Post(srv.URL+"/debug/proxies", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s, want 405", resp.Status)
	}
}

func TestClientErrors(t *testing.T) {
	// A port nothing listens on.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	if _, err := (Client{Address: addr}).Proxies(context.Background()); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), addr) {
		t.Errorf("nothing listening: %v; want ErrUnreachable naming %s", err, addr)
	}

	// Something that is not the admin server (the metrics listener, say).
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "# HELP\n") }))
	defer other.Close()
	if _, err := (Client{Address: strings.TrimPrefix(other.URL, "http://")}).Proxies(context.Background()); err == nil ||
		!strings.Contains(err.Error(), "--admin-address") {
		t.Errorf("not the admin server: %v", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9092": true, "127.0.82.1:9092": true, "[::1]:9092": true, "localhost:9092": true,
		":9092": false, "0.0.0.0:9092": false, "10.0.0.1:9092": false, "[::]:9092": false, "admin.example:9092": false, "nonsense": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestServeStopsWithContext(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, lis, NewHandler(Options{Proxies: fakeProxies{}})) }()
	list, err := (Client{Address: lis.Addr().String()}).Proxies(ctx)
	if err != nil || len(list.Proxies) != 0 {
		t.Fatalf("no proxies: %+v, %v", list, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(shutdownGrace + time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

// BenchmarkProxiesHandler answers /debug/proxies for 1,000 streams, each
// with a NACK message.
func BenchmarkProxiesHandler(b *testing.B) {
	src := make(fakeProxies, 1000)
	for i := range src {
		src[i] = gatewayStatus(fmt.Sprintf("gw-%04d", i), int64(i))
		src[i].Types[2].NACKMessage = strings.Repeat("x", xds.MaxNACKMessage)
	}
	h := NewHandler(Options{Proxies: src})
	req := httptest.NewRequest(http.MethodGet, "/debug/proxies", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
		b.SetBytes(int64(w.Body.Len()))
	}
}
