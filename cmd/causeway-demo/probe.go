package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
)

// target is where the demo sends requests: a gateway listener and a path.
type target struct {
	Address string // host:port of the gateway listener
	Host    string // Host header; "" sends the address
	Path    string
}

func (t target) URL() string { return "http://" + t.Address + t.Path }

// Curl is the command a user can paste to send the same request.
func (t target) Curl() string {
	if t.Host == "" {
		return fmt.Sprintf("curl -s %s", t.URL())
	}
	return fmt.Sprintf("curl -s -H 'Host: %s' %s", t.Host, t.URL())
}

// answer is who answered one request, or why nobody did.
type answer struct {
	Cluster, Instance, Version string
	PeerIP                     string // the proxy that connected to the backend
	Failure                    string // non-empty when there is no backend answer
}

// key groups answers in a tally.
func (a answer) key() string {
	if a.Failure != "" {
		return "failed: " + a.Failure
	}
	return a.Cluster + "/" + a.Instance + "/" + a.PeerIP
}

var client = &http.Client{Timeout: 3 * time.Second}

// send makes one request and reports who answered.
func send(ctx context.Context, t target) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL(), nil)
	if err != nil {
		return answer{Failure: err.Error()}
	}
	if t.Host != "" {
		req.Host = t.Host
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{Failure: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return answer{Failure: err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		return answer{Failure: fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(body)))}
	}
	var r backend.Response
	if err := json.Unmarshal(body, &r); err != nil {
		return answer{Failure: fmt.Sprintf("not a backend answer: %q", body)}
	}
	ip, _, err := net.SplitHostPort(r.Peer)
	if err != nil {
		ip = r.Peer
	}
	return answer{Cluster: r.Cluster, Instance: r.Instance, Version: r.Version, PeerIP: ip}
}

// tally is how many of a batch of requests each answerer took.
type tally struct {
	Total   int
	Counts  map[string]int
	Answers map[string]answer // one example per key
}

func sendBatch(ctx context.Context, t target, n int) tally {
	tl := tally{Counts: map[string]int{}, Answers: map[string]answer{}}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		a := send(ctx, t)
		tl.Total++
		tl.Counts[a.key()]++
		tl.Answers[a.key()] = a
	}
	return tl
}

// all reports whether every answer satisfies ok.
func (tl tally) all(ok func(answer) bool) bool {
	if tl.Total == 0 {
		return false
	}
	for _, a := range tl.Answers {
		if !ok(a) {
			return false
		}
	}
	return true
}

// print writes one line per answerer, most frequent first, naming the
// proxy behind the peer address when it is one of the topology's.
func (tl tally) print(w io.Writer, topo topology) {
	keys := make([]string, 0, len(tl.Counts))
	for k := range tl.Counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if tl.Counts[keys[i]] != tl.Counts[keys[j]] {
			return tl.Counts[keys[i]] > tl.Counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		a := tl.Answers[k]
		if a.Failure != "" {
			fmt.Fprintf(w, "  %3d  %s\n", tl.Counts[k], k)
			continue
		}
		via := ""
		if p, ok := topo.proxyByAddress(a.PeerIP); ok {
			via = " (" + p.Name + ")"
		}
		fmt.Fprintf(w, "  %3d  %-10s %-12s %-3s peer %s%s\n", tl.Counts[k], a.Cluster, a.Instance, a.Version, a.PeerIP, via)
	}
}

// waitFor sends requests until one satisfies ok, at most attempts times
// interval apart; it returns how long that took.
func waitFor(ctx context.Context, t target, ok func(answer) bool, attempts int, interval time.Duration) (time.Duration, answer, error) {
	begin := time.Now()
	var last answer
	for i := 0; i < attempts; i++ {
		last = send(ctx, t)
		if ok(last) {
			return time.Since(begin), last, nil
		}
		select {
		case <-ctx.Done():
			return time.Since(begin), last, ctx.Err()
		case <-time.After(interval):
		}
	}
	return time.Since(begin), last, fmt.Errorf("no matching answer from %s after %d attempts in %s (last: %s)",
		t.URL(), attempts, time.Since(begin).Round(time.Millisecond), last.key())
}
