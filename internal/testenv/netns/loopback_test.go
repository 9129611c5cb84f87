package netns

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// TestRouteLoopbackBack calls a backend inside a namespace from a loopback
// source address, the way Envoy's upstream connections arrive: refused
// without RouteLoopbackBack, answered with it, the backend seeing the
// loopback address as its peer.
func TestRouteLoopbackBack(t *testing.T) {
	const source = "127.0.0.31"
	for _, tc := range []struct {
		name     string
		loopback bool
	}{
		{"without", false},
		{"with", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := Create(t, "loopback", hostAddr, nsAddrs[0])
			bin := buildSampleBackend(t)
			if tc.loopback {
				ns.RouteLoopbackBack(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			addr := netip.AddrPortFrom(ns.Addr(), 9080).String()
			p, err := ns.Exec(ctx, bin, "--address", addr, "--cluster", "cluster-1", "--instance", "lo", "--version", "v1")
			if err != nil {
				t.Fatal(err)
			}
			// Up, as seen from the host's own address on the veth.
			if _, err := getWithRetry(ctx, "http://"+addr+"/", p); err != nil {
				t.Fatalf("GET %s from the host address: %v", addr, err)
			}
			client := &http.Client{
				Timeout: time.Second,
				Transport: &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{
					LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)},
				}).DialContext},
			}
			peer, err := peerFrom(client, "http://"+addr+"/")
			if !tc.loopback {
				if err == nil {
					t.Fatalf("GET %s from %s answered (peer %s) without RouteLoopbackBack: the test proves nothing", addr, source, peer)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s from %s: %v", addr, source, err)
			}
			if peer != source {
				t.Errorf("backend saw peer %s, want %s", peer, source)
			}
		})
	}
}

// peerFrom GETs url once and returns the peer address the backend reports.
func peerFrom(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r struct{ Peer string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return "", fmt.Errorf("status %d: %v", resp.StatusCode, err)
	}
	host, _, err := net.SplitHostPort(r.Peer)
	return host, err
}
