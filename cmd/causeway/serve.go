package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

type serveFlags struct {
	world, xdsAddress, metricsAddress, caDir, trustDomain, logLevel string
}

// shutdownGrace bounds how long the metrics server waits for open requests.
const shutdownGrace = 5 * time.Second

func newServeCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve Envoy configuration over xDS from a world file",
		Long: `Serve Envoy configuration over xDS (state-of-the-world and delta ADS) from a
world file, reloading it when it changes. A world file that stops loading is
logged and the last good world stays in effect. Workload certificates are
issued by a built-in CA whose root is kept in --ca-dir.

Metrics are served on --metrics-address at /metrics, liveness at /healthz.
SIGINT or SIGTERM stops the server gracefully.`,
		Example: `  causeway serve --world examples/world.yaml
  causeway serve --world world.yaml --xds-address 127.0.0.1:18000 --metrics-address 127.0.0.1:9091 --log-level debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, f, cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.world, "world", "", "world file to serve (required)")
	fs.StringVar(&f.xdsAddress, "xds-address", "127.0.0.1:18000", "address the xDS gRPC server listens on")
	fs.StringVar(&f.metricsAddress, "metrics-address", "127.0.0.1:9091", "address serving /metrics and /healthz")
	fs.StringVar(&f.caDir, "ca-dir", "./.causeway/ca", "directory holding the CA root (created with a new root when empty)")
	fs.StringVar(&f.trustDomain, "trust-domain", "causeway.local", "SPIFFE trust domain of issued certificates")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	_ = cmd.MarkFlagRequired("world")
	return cmd
}

// runServe runs until ctx is done or a part fails.
func runServe(ctx context.Context, f *serveFlags, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// Refuse to start on a world that does not load rather than serve an
	// empty one; later breakage keeps the last good world instead.
	world, err := file.Load(f.world)
	if err != nil {
		return &exitCodeError{code: exitInvalidWorld, err: err}
	}
	authority, err := ca.LoadOrCreate(f.caDir, f.trustDomain)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := file.RegisterMetrics(reg); err != nil {
		return err
	}
	store := &model.Store{}
	store.Publish(world)
	srv, err := xds.NewServer(xds.Options{Store: store, CA: authority, Log: log, Registry: reg})
	if err != nil {
		return err
	}
	// Listen before starting anything so a busy port fails at once.
	xdsLis, err := net.Listen("tcp", f.xdsAddress)
	if err != nil {
		return fmt.Errorf("--xds-address: %w", err)
	}
	metricsLis, err := net.Listen("tcp", f.metricsAddress)
	if err != nil {
		xdsLis.Close()
		return fmt.Errorf("--metrics-address: %w", err)
	}
	log.Info("causeway serving", "version", version, "world", f.world, "xds", xdsLis.Addr().String(),
		"metrics", metricsLis.Addr().String(), "trustDomain", f.trustDomain)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(ctx, func() { log.Info("shutting down") })
	parts := []struct {
		name string
		run  func() error
	}{
		{"world watcher", func() error { return file.Watch(ctx, f.world, store, log) }},
		{"xDS server", func() error { return srv.Serve(ctx, xdsLis) }},
		{"metrics server", func() error { return serveMetrics(ctx, metricsLis, reg) }},
	}
	done := make(chan error, len(parts))
	for _, p := range parts {
		go func() {
			if err := p.run(); err != nil {
				done <- fmt.Errorf("%s: %w", p.name, err)
				return
			}
			done <- nil
		}()
	}
	// The first part to return (an error, or any part once ctx is done)
	// stops the others; every part returns promptly after cancel.
	var errs []error
	for range parts {
		if err := <-done; err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	if len(errs) == 0 {
		log.Info("causeway stopped")
	}
	return errors.Join(errs...)
}

// serveMetrics serves /metrics and /healthz on lis until ctx is done.
func serveMetrics(ctx context.Context, lis net.Listener, reg *prometheus.Registry) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(lis) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-served
	return err
}
