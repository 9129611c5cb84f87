package e2eutil

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadCountsAndClassifies runs 100/s for about a second against a
// server that names itself "a", then fails, then names itself "b".
func TestLoadCountsAndClassifies(t *testing.T) {
	var phase atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "svc.example" {
			http.Error(w, "wrong host "+r.Host, http.StatusBadRequest)
			return
		}
		switch phase.Load() {
		case 0:
			w.Write([]byte("a"))
		case 1:
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			w.Write([]byte("b"))
		}
	}))
	defer srv.Close()
	load := StartLoad(t, LoadSpec{URL: srv.URL, Host: "svc.example", Rate: 100, Max: 10 * time.Second,
		Classify: func(status int, body []byte) (string, error) {
			if status != http.StatusOK {
				return "", errors.New(strings.TrimSpace(string(body)))
			}
			return string(body), nil
		}})
	time.Sleep(300 * time.Millisecond)
	phase.Store(1)
	time.Sleep(200 * time.Millisecond)
	phase.Store(2)
	changed := time.Now()
	first, streak, err := load.AwaitStreak(changed, 10, func(a Answer) bool { return a.Class == "b" }, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if first > streak || streak > time.Second {
		t.Errorf("first b at +%v, streak at +%v: want first <= streak <= 1s", first, streak)
	}
	r := load.Stop()
	t.Log(r)
	if r.Total < 40 || r.Total > 200 {
		t.Errorf("%d requests in %v at 100/s", r.Total, r.Elapsed)
	}
	if r.Failed < 5 || r.ByClass["a"] < 10 || r.ByClass["b"] < 10 || r.Total != r.Failed+r.ByClass["a"]+r.ByClass["b"] {
		t.Errorf("result %v: want failures, a and b, adding up to the total", r)
	}
	if len(r.Failures) == 0 || len(r.Failures) > MaxLoadFailuresKept || !strings.Contains(r.Failures[0].Err, "status 503: down") {
		t.Errorf("failures kept: %+v", r.Failures)
	}
	if again := load.Stop(); again.Total != r.Total {
		t.Errorf("second Stop: %v, want the first's %v", again, r)
	}
}

func TestLoadTimeoutFailsAndMaxEnds(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	load := StartLoad(t, LoadSpec{URL: srv.URL, Rate: 20, Max: 300 * time.Millisecond, Timeout: 200 * time.Millisecond})
	time.Sleep(time.Second) // past Max and every request's timeout
	start := time.Now()
	r := load.Stop()
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("Stop after Max took %v: the run should have ended by itself", took)
	}
	if r.Total == 0 || r.Failed != r.Total || r.Total > 10 {
		t.Errorf("result %v: want every one of about 6 requests failed", r)
	}
}

func TestLoadRefusesNonLoopback(t *testing.T) {
	// 192.0.2.1 is TEST-NET-1; the dialer must refuse before any packet.
	load := StartLoad(t, LoadSpec{URL: "http://192.0.2.1:80/", Rate: 10, Max: 100 * time.Millisecond})
	time.Sleep(300 * time.Millisecond)
	r := load.Stop()
	if r.Total == 0 || r.Failed != r.Total || !strings.Contains(r.Failures[0].Err, "not a loopback address") {
		t.Errorf("result %v, failures %+v: want every request refused as not loopback", r, r.Failures)
	}
}

func TestFirstStreak(t *testing.T) {
	base := time.Unix(1000, 0)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	answers := []Answer{
		{At: at(-10), Class: "new"}, // before since
		{At: at(10), Class: "old"},
		{At: at(20), Class: "new"}, // first
		{At: at(30), Err: "boom"},  // breaks the run
		{At: at(40), Class: "new"}, // streak starts
		{At: at(50), Class: "new"},
		{At: at(60), Class: "new"},
	}
	isNew := func(a Answer) bool { return a.Class == "new" }
	first, streak, ok := FirstStreak(answers, base, 3, isNew)
	if !ok || first != 20*time.Millisecond || streak != 40*time.Millisecond {
		t.Errorf("FirstStreak = %v, %v, %v; want 20ms, 40ms, true", first, streak, ok)
	}
	if _, _, ok := FirstStreak(answers, base, 4, isNew); ok {
		t.Error("found a streak of 4 where the longest is 3")
	}
}
