package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/causeway-dev/causeway/internal/admin"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

type fakeProxies []xds.ProxyStatus

func (f fakeProxies) ProxyStatuses() []xds.ProxyStatus { return f }

var statusTime = time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)

// fakeGateway is a gateway stream: listeners NACKed, routes not sent yet,
// everything else synced.
func fakeGateway(node string, stream int64) xds.ProxyStatus {
	p := xds.ProxyStatus{StreamID: stream, NodeID: node, Class: "gateway~cluster-1~web/web~us-east/us-east-1a/~127.0.82.1",
		Proxy:       model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Gateway: "web/web", Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}},
		ConnectedAt: statusTime, RemoteAddress: "127.0.0.1:40000"}
	for _, url := range []string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType, resource.SecretType} {
		r := xds.Response{Version: "0123456789abcdef", Nonce: "1", At: statusTime}
		ts := xds.TypeStatus{TypeURL: url, Requested: true, Sent: r, ACKed: r, Holds: r.Version, Current: r.Version, Sync: xds.Synced}
		switch url {
		case resource.ListenerType:
			ts.Sent = xds.Response{Version: "fedcba9876543210", Nonce: "2", At: statusTime}
			ts.NACKed, ts.NACKMessage, ts.Current, ts.Sync = ts.Sent, "cannot bind '127.0.82.1:8081': Address already in use", ts.Sent.Version, xds.NACKed
		case resource.RouteType:
			ts = xds.TypeStatus{TypeURL: url, Current: "aaaa", Sync: xds.NotSent}
		}
		p.Types = append(p.Types, ts)
	}
	return p
}

func fakeAdmin(t *testing.T, src fakeProxies) string {
	srv := httptest.NewServer(admin.NewHandler(admin.Options{Proxies: src}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestProxyStatusTable(t *testing.T) {
	addr := fakeAdmin(t, fakeProxies{fakeGateway("gw-a", 2), fakeGateway("gw-a", 1), fakeGateway("gw-b", 3)})
	code, out, errOut := causeway(t, "proxy-status", "--admin-address", addr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 lines:\n%s", out)
	}
	if h := strings.Fields(lines[0]); strings.Join(h, " ") != "NAME CLASS ROLE CLUSTER GATEWAY CDS LDS EDS RDS SDS" {
		t.Errorf("header %q", lines[0])
	}
	row := regexp.MustCompile(`^(\S+)\s+gateway~cluster-1~web/web~\S+\s+gateway\s+cluster-1\s+web/web\s+` +
		`SYNCED \(01234567\)\s+NACKED \(fedcba98\)\s+SYNCED \(01234567\)\s+NOT SENT\s+SYNCED \(01234567\)$`)
	for i, name := range []string{"gw-a#2", "gw-a#1", "gw-b"} {
		m := row.FindStringSubmatch(lines[i+1])
		if m == nil || m[1] != name {
			t.Errorf("line %d: %q; want %s with CDS SYNCED, LDS NACKED, RDS NOT SENT", i+1, lines[i+1], name)
		}
	}

	code, out, errOut = causeway(t, "proxy-status", "--admin-address", addr, "-o", "json")
	var list admin.ProxyList
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Proxies) != 3 || list.Proxies[2].Node != "gw-b" {
		t.Errorf("-o json: exit %d, %s\n%s", code, errOut, out)
	}
}

func TestProxyStatusDetail(t *testing.T) {
	addr := fakeAdmin(t, fakeProxies{fakeGateway("gw-b", 3)})
	code, out, errOut := causeway(t, "proxy-status", "--admin-address", addr, "gw-b")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"NODE      gw-b",
		"STREAM    3 (sotw), connected 2026-12-07T11:00:00Z from 127.0.0.1:40000",
		"LOCALITY  us-east/us-east-1a/",
		"TYPE  STATE",
		"LDS   NACKED    01234567  fedcba98",
		"RDS   NOT SENT  -         aaaa",
		"LDS NACK of fedcba9876543210 (nonce 2, 2026-12-07T11:00:00Z): cannot bind '127.0.82.1:8081': Address already in use",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
}

func TestProxyStatusErrors(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := lis.Addr().String()
	lis.Close()
	addr := fakeAdmin(t, fakeProxies{fakeGateway("gw-b", 3)})
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unreachable", []string{"proxy-status", "--admin-address", closed}, []string{closed, "kubectl -n causeway-system port-forward deploy/causeway 9092"}},
		{"unknown node", []string{"proxy-status", "--admin-address", addr, "gw-x"}, []string{`node "gw-x" is not connected`, addr}},
		{"bad output", []string{"proxy-status", "--admin-address", addr, "-o", "yaml"}, []string{`--output "yaml"`}},
		{"two nodes", []string{"proxy-status", "--admin-address", addr, "a", "b"}, []string{"accepts at most 1 arg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := causeway(t, tc.args...)
			if code == 0 {
				t.Fatalf("exit 0; want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestListenAdmin(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if lis, err := listenAdmin("", log); lis != nil || err != nil {
		t.Errorf("empty address: %v, %v; want off", lis, err)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if _, err := listenAdmin(taken.Addr().String(), log); err == nil || !strings.Contains(err.Error(), "--admin-address") {
		t.Errorf("a chosen address in use: %v; want an error naming --admin-address", err)
	}

	// The default address in use (by this test, or by whatever else holds it).
	if hold, err := net.Listen("tcp", admin.DefaultAddress); err == nil {
		defer hold.Close()
	}
	logs.Reset()
	if lis, err := listenAdmin(admin.DefaultAddress, log); lis != nil || err != nil || !strings.Contains(logs.String(), "admin endpoints off") {
		t.Errorf("the default address in use: %v, %v, log %q; want off with a warning", lis, err, logs.String())
	}

	logs.Reset()
	lis, err := listenAdmin("0.0.0.0:0", log)
	if err != nil {
		t.Fatal(err)
	}
	lis.Close()
	if !strings.Contains(logs.String(), "beyond loopback") {
		t.Errorf("no warning for a non-loopback address: %q", logs.String())
	}
	logs.Reset()
	if lis, err = listenAdmin("127.0.0.1:0", log); err != nil {
		t.Fatal(err)
	}
	lis.Close()
	if logs.Len() != 0 {
		t.Errorf("a loopback address logged %q", logs.String())
	}
}

// TestServeAdmin: serve answers /debug/proxies on --admin-address, and
// proxy-status reads it (no proxy connected: a header only).
func TestServeAdmin(t *testing.T) {
	adminAddr, metrics := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs lockedBuffer
	f := &serveFlags{world: "testdata/world.yaml", xdsAddress: freeAddr(t), metricsAddress: metrics, adminAddress: adminAddr,
		caDir: filepath.Join(t.TempDir(), "ca"), trustDomain: "causeway.local", logLevel: "info"}
	go func() { done <- runServe(ctx, f, &logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, logs.String())
		}
	}()
	if body := get(t, "http://"+adminAddr+"/debug/proxies"); strings.TrimSpace(body) != `{"proxies":[]}` {
		t.Errorf("/debug/proxies with no proxy: %q", body)
	}
	code, out, errOut := causeway(t, "proxy-status", "--admin-address", adminAddr)
	if code != 0 || strings.TrimSpace(out) != "NAME  CLASS  ROLE  CLUSTER  GATEWAY  CDS  LDS  EDS  RDS  SDS" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(logs.String(), "admin="+adminAddr) {
		t.Errorf("serve did not log its admin address:\n%s", logs.String())
	}
}
