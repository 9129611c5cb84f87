package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
)

func TestCheckFlags(t *testing.T) {
	for _, tc := range []struct {
		status  int
		delay   time.Duration
		wantErr string
	}{
		{0, 0, ""},
		{503, 2 * time.Second, ""},
		{200, 0, ""},
		{42, 0, "-fail-status 42"},
		{600, 0, "-fail-status 600"},
		{0, -time.Second, "-delay -1s"},
	} {
		err := checkFlags(tc.status, tc.delay)
		if tc.wantErr == "" && err != nil {
			t.Errorf("checkFlags(%d, %v) = %v, want nil", tc.status, tc.delay, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("checkFlags(%d, %v) = %v, want an error naming %q", tc.status, tc.delay, err, tc.wantErr)
		}
	}
}

// TestFailureFlags runs the real binary: it starts failing and slow as the
// flags say, and the mode path makes it healthy again.
func TestFailureFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sample-backend")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	const delay = 300 * time.Millisecond
	cmd := exec.Command(bin, "-address", addr, "-cluster", "cluster-1", "-instance", "reviews-1",
		"-fail-status", "503", "-delay", delay.String())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})

	var status int
	var took time.Duration
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		status, _, took, err = get("http://" + addr + "/reviews")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sample-backend never answered on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != 503 || took < delay {
		t.Errorf("with -fail-status 503 -delay %v: %d after %v, want 503 after >= %v", delay, status, took, delay)
	}

	if status, body, _, err := get("http://" + addr + backend.ModePath + "?reset"); err != nil || status != 200 {
		t.Fatalf("%s?reset: %d %q %v", backend.ModePath, status, body, err)
	}
	status, body, took, err := get("http://" + addr + "/reviews")
	if err != nil || status != 200 || took >= delay || !strings.Contains(body, `"instance":"reviews-1"`) {
		t.Errorf("after reset: %d %q after %v (%v), want reviews-1's 200 at once", status, body, took, err)
	}
}

func get(url string) (int, string, time.Duration, error) {
	start := time.Now()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), time.Since(start), err
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr())
}
