package backend

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestServerAnswersWithIdentityAndPeer(t *testing.T) {
	s, err := Start("127.0.0.1:0", Info{Cluster: "cluster-1", Instance: "reviews-1", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	resp, err := http.Get("http://" + s.Addr() + "/reviews/1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got Response
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Cluster != "cluster-1" || got.Instance != "reviews-1" || got.Version != "v1" || got.Path != "/reviews/1" {
		t.Errorf("response = %+v", got)
	}
	if !resp.Close {
		t.Error("response keeps the connection open; want Connection: close")
	}
	if !strings.HasPrefix(got.Peer, "127.0.0.1:") {
		t.Errorf("peer = %q, want 127.0.0.1:<port>", got.Peer)
	}

	h, err := http.Get("http://" + s.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(h.Body)
	h.Body.Close()
	if h.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/healthz = %d %q", h.StatusCode, body)
	}
}
