package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

func TestPprofPart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr := "127.0.0.1:" + e2eutil.FreePort(t)
	part, err := pprofPart(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pprofPart(ctx, "not an address"); err == nil || !strings.Contains(err.Error(), "--pprof-address") {
		t.Errorf("bad address: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- part.run() }()
	resp, err := http.Get("http://" + addr + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %s", resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
