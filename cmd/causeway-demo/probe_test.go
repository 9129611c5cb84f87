package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/internal/backend"
)

func TestSendAndTally(t *testing.T) {
	b, err := backend.Start("127.0.0.1:0", backend.Info{Cluster: "cluster-1", Instance: "reviews-v1", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "bookinfo.example.com" {
			t.Errorf("Host = %q", r.Host)
		}
		http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	ctx := context.Background()

	tl := sendBatch(ctx, target{Address: b.Addr(), Path: "/reviews"}, 3)
	want := answer{Cluster: "cluster-1", Instance: "reviews-v1", Version: "v1", PeerIP: "127.0.0.1"}
	if tl.Total != 3 || tl.Counts[want.key()] != 3 || tl.Answers[want.key()] != want {
		t.Errorf("tally = %+v, want 3 × %+v", tl, want)
	}
	topo := topology{Proxies: []proxySpec{{Name: "local-gateway", Address: "127.0.0.1"}}}
	var out bytes.Buffer
	tl.print(&out, topo)
	if !strings.Contains(out.String(), "3  cluster-1  reviews-v1") || !strings.Contains(out.String(), "peer 127.0.0.1 (local-gateway)") {
		t.Errorf("printed tally:\n%s", out.String())
	}

	failed := sendBatch(ctx, target{Address: strings.TrimPrefix(down.URL, "http://"), Host: "bookinfo.example.com", Path: "/"}, 2)
	if failed.all(func(a answer) bool { return a.Failure == "" }) {
		t.Errorf("503 answers counted as backend answers: %+v", failed)
	}
	if failed.Counts["failed: HTTP 503 no healthy upstream"] != 2 {
		t.Errorf("tally = %+v", failed.Counts)
	}
}
