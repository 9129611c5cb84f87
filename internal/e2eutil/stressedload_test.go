package e2eutil

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestStressedLoadFinishCheckCount: against a server whose every fifth
// answer is 150 ms late and whose path /fail fails,
// Finish reports the slowest answer, Count counts by class and time, and
// CheckNoFailures fails a test exactly when a request failed.
func TestStressedLoadFinishCheckCount(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/fail") {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if n.Add(1)%5 == 0 {
			time.Sleep(150 * time.Millisecond)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()

	good := StartStressedLoad(t, LoadSpec{URL: srv.URL + "/ok", Rate: 50, Max: 5 * time.Second})
	time.Sleep(500 * time.Millisecond)
	mid := time.Now()
	time.Sleep(300 * time.Millisecond)
	res, slowest := good.Finish()
	if res.Total == 0 || res.Failed != 0 {
		t.Fatalf("good load: %v", res)
	}
	if slowest.Took < 150*time.Millisecond || slowest.Err != "" {
		t.Errorf("slowest answer %+v, want one that took at least 150 ms", slowest)
	}
	before, after := good.Count("ok", good.Start, mid), good.Count("ok", mid, time.Now())
	if before == 0 || after == 0 || before+after != res.ByClass["ok"] {
		t.Errorf("Count: %d before the middle, %d after, %d in all", before, after, res.ByClass["ok"])
	}
	if good.Count("other", good.Start, time.Now()) != 0 {
		t.Error("Count of a class nobody answered is not 0")
	}
	good.CheckNoFailures(t, res, "the good load")

	bad := StartStressedLoad(t, LoadSpec{URL: srv.URL + "/fail", Rate: 50, Max: 5 * time.Second})
	time.Sleep(300 * time.Millisecond)
	res, _ = bad.Finish()
	probe := &failRecorder{TB: t}
	bad.CheckNoFailures(probe, res, "the failing load")
	if !probe.failed {
		t.Errorf("CheckNoFailures passed a load with %d of %d failed", res.Failed, res.Total)
	}
}

// failRecorder is t, except that Errorf only records that it was called.
type failRecorder struct {
	testing.TB
	failed bool
}

func (r *failRecorder) Helper()               {}
func (r *failRecorder) Errorf(string, ...any) { r.failed = true }
