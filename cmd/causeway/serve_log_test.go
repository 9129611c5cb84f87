package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeLogFormatJSON runs serve with --log-format json: every line it
// writes is one JSON object with time, level and msg.
func TestServeLogFormatJSON(t *testing.T) {
	f := &serveFlags{
		world: "testdata/world.yaml", xdsAddress: freeAddr(t), metricsAddress: freeAddr(t),
		caDir: filepath.Join(t.TempDir(), "ca"), trustDomain: "causeway.local", logLevel: "debug", logFormat: "json",
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, f, &logs) }()
	get(t, "http://"+f.metricsAddress+"/healthz")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runServe: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("runServe did not stop after cancel")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var msgs []string
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("log line lacks %q: %s", k, line)
			}
		}
		msgs = append(msgs, rec["msg"].(string))
	}
	for _, want := range []string{"causeway serving", "causeway stopped"} {
		if !strings.Contains(strings.Join(msgs, "\n"), want) {
			t.Errorf("no %q among the log messages %q", want, msgs)
		}
	}
}

func TestServeLogFlagErrors(t *testing.T) {
	cases := []struct{ args, want string }{
		{"--log-format=xml", `--log-format "xml": want text or json`},
		{"--log-level=loud", `--log-level "loud": want debug, info, warn or error`},
	}
	for _, tc := range cases {
		t.Run(tc.args, func(t *testing.T) {
			code, _, errOut := causeway(t, "serve", "--world", "testdata/world.yaml", tc.args,
				"--xds-address", freeAddr(t), "--metrics-address", freeAddr(t), "--ca-dir", filepath.Join(t.TempDir(), "ca"))
			if code != exitError || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}
}

// TestGRPCSlogLogger: gRPC's own log lines come out through serve's
// handler, at the matching level, info only with debug on.
func TestGRPCSlogLogger(t *testing.T) {
	var buf bytes.Buffer
	g := grpcSlogLogger{slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	g.Infof("connection %d", 1) // debug: dropped at info
	g.Warningln("transport closing")
	g.Errorf("listener %s failed", "x")
	if g.V(0) {
		t.Error("V(0) true at info level")
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		got = append(got, rec.Level+" "+rec.Msg)
	}
	want := []string{"WARN transport closing", "ERROR listener x failed"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}
