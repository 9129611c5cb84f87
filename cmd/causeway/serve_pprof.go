package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofPart serves net/http/pprof on its own listener (--pprof-address),
// apart from /metrics so profiles are never exposed by accident.
func pprofPart(ctx context.Context, address string) (servePart, error) {
	lis, err := net.Listen("tcp", address)
	if err != nil {
		return servePart{}, fmt.Errorf("--pprof-address: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return servePart{"pprof server", func() error {
		served := make(chan error, 1)
		go func() { served <- hs.Serve(lis) }()
		select {
		case err := <-served:
			return err
		case <-ctx.Done():
		}
		_ = hs.Close()
		<-served
		return nil
	}}, nil
}
