package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Sampling serve during the soak: RSS from /proc, heap and goroutines
// from its /metrics.

// sampleUntil samples serve every interval from start until stop is
// closed, and once more then.
func sampleUntil(ctx context.Context, p *serveProc, start time.Time, interval time.Duration, stop <-chan struct{}) []soakSample {
	var out []soakSample
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for stopped := false; ; {
		if x, err := sampleServe(ctx, p, start); err == nil {
			out = append(out, x)
		} else {
			fmt.Fprintln(os.Stderr, "soak: sample:", err)
		}
		if stopped {
			return out
		}
		select {
		case <-tick.C:
		case <-stop:
			stopped = true
		case <-ctx.Done():
			return out
		}
	}
}

// sampleServe samples serve's RSS (/proc), heap in use and goroutines
// (/metrics).
func sampleServe(ctx context.Context, p *serveProc, start time.Time) (soakSample, error) {
	x := soakSample{T: round2(time.Since(start).Seconds())}
	rss, err := procStatus(p.pid(), "VmRSS")
	if err != nil {
		return x, err
	}
	m, err := scrape(ctx, p.metricsAddr)
	if err != nil {
		return x, err
	}
	x.RSSMiB, x.HeapMiB, x.Goroutines = round2(rss), round2(m["go_memstats_heap_inuse_bytes"]/(1<<20)), int(m["go_goroutines"])
	return x, nil
}

// quietGoroutines is the least of three goroutine counts a second apart:
// short-lived goroutines (a push in flight, a scrape) are not growth.
func quietGoroutines(ctx context.Context, addr string) (int, error) {
	least := math.MaxInt
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		m, err := scrape(ctx, addr)
		if err != nil {
			return 0, err
		}
		least = min(least, int(m["go_goroutines"]))
	}
	return least, nil
}

const (
	reloadsOK     = `causeway_world_reloads_total{result="success"}`
	reloadsFailed = `causeway_world_reloads_total{result="failure"}`
)

// scrape reads serve's /metrics: the value of every sample by its name
// and labels as written (`name{label="value"}`).
func scrape(ctx context.Context, addr string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseMetrics(bufio.NewScanner(resp.Body))
}

// parseMetrics reads the Prometheus text format's samples (no timestamps,
// as client_golang writes them).
func parseMetrics(sc *bufio.Scanner) (map[string]float64, error) {
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	out := map[string]float64{}
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}
