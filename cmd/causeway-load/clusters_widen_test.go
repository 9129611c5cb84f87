package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeMetrics serves /metrics with the text value(n) gives for the n-th
// scrape (from 0).
func fakeMetrics(t *testing.T, value func(n int64) string) *serveProc {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, value(calls.Add(1)-1))
	}))
	t.Cleanup(srv.Close)
	return &serveProc{metricsAddr: strings.TrimPrefix(srv.URL, "http://")}
}

func TestWaitNoClasses(t *testing.T) {
	ctx := context.Background()
	p := fakeMetrics(t, func(n int64) string {
		if n < 3 {
			return "causeway_xds_active_classes 1\n"
		}
		return "causeway_xds_active_classes 0\n"
	})
	if err := waitNoClasses(ctx, p, 10*time.Second); err != nil {
		t.Errorf("classes went to 0 on the 4th scrape: %v", err)
	}
	stuck := fakeMetrics(t, func(int64) string { return "causeway_xds_active_classes 2\n" })
	if err := waitNoClasses(ctx, stuck, 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "2 proxy classes") {
		t.Errorf("stuck classes: got %v, want an error naming 2 classes", err)
	}
}

func TestWaitPublishesSettle(t *testing.T) {
	ctx := context.Background()
	// One publish after the 2nd scrape, then none.
	p := fakeMetrics(t, func(n int64) string {
		if n < 2 {
			return "causeway_kube_world_publishes_total 5\n"
		}
		return "causeway_kube_world_publishes_total 6\n"
	})
	start := time.Now()
	if err := waitPublishesSettle(ctx, p, 5, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("returned after %v, before two quiet seconds", d)
	}
	never := fakeMetrics(t, func(int64) string { return "causeway_kube_world_publishes_total 5\n" })
	if err := waitPublishesSettle(ctx, never, 5, 500*time.Millisecond); err == nil {
		t.Error("no publish at all was taken for settled")
	}
}
