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
	// kube holds the Kubernetes mode flags, used when world is empty.
	kube kubeFlags
}

// servePart is one long-running piece of the server.
type servePart struct {
	name string
	run  func() error
}

// shutdownGrace bounds how long the metrics server waits for open requests.
const shutdownGrace = 5 * time.Second

func newServeCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve Envoy configuration over xDS from Kubernetes or a world file",
		Long: `Serve Envoy configuration over xDS (state-of-the-world and delta ADS).

Kubernetes mode (without --world) reads workload clusters' Services,
EndpointSlices, Pods and Nodes, and the management cluster's
VirtualDestinations and Gateway API objects. Workload clusters come from the
--clusters file and from Secrets labelled causeway.dev/cluster=true in
--namespace on the management cluster (key "kubeconfig"), added, removed and
rotated at runtime. A cluster unreachable for --stale-after keeps its last
known endpoints, ranked below every fresh one. One replica (elected with a
Lease) writes status back to the management cluster.

World mode (--world) serves a world file instead, reloading it when it
changes; a world file that stops loading is logged and the last good world
stays in effect. --world excludes the Kubernetes flags.

Workload certificates are issued by a built-in CA whose root is kept in
--ca-dir. Metrics are served on --metrics-address at /metrics, liveness at
/healthz and readiness at /readyz (Kubernetes mode: once every cluster synced
or --sync-timeout passed). SIGINT or SIGTERM stops the server gracefully.`,
		Example: `  causeway serve --management-kubeconfig mgmt.kubeconfig --clusters clusters.yaml
  causeway serve --clusters clusters.yaml   # inside the management cluster
  causeway serve --world examples/world.yaml
  causeway serve --world world.yaml --xds-address 127.0.0.1:18000 --metrics-address 127.0.0.1:9091 --log-level debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.world != "" {
				for _, name := range kubeFlagNames {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--world and --%s are exclusive: --world serves a world file, the Kubernetes flags serve Kubernetes", name)
					}
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, f, cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.world, "world", "", "world mode: world file to serve instead of Kubernetes")
	fs.StringVar(&f.xdsAddress, "xds-address", "127.0.0.1:18000", "address the xDS gRPC server listens on")
	fs.StringVar(&f.metricsAddress, "metrics-address", "127.0.0.1:9091", "address serving /metrics, /healthz and /readyz")
	fs.StringVar(&f.caDir, "ca-dir", "./.causeway/ca", "directory holding the CA root (created with a new root when empty)")
	fs.StringVar(&f.trustDomain, "trust-domain", "causeway.local", "SPIFFE trust domain of issued certificates")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	addKubeFlags(fs, &f.kube)
	return cmd
}

// runServe runs until ctx is done or a part fails.
func runServe(ctx context.Context, f *serveFlags, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	store := &model.Store{}
	var (
		source string
		kubeM  *kubeMode
		ready  = func() bool { return true }
	)
	if f.world != "" {
		// Refuse to start on a world that does not load rather than serve
		// an empty one; later breakage keeps the last good world instead.
		// So world mode is ready from the start: the first load is done.
		world, err := file.Load(f.world)
		if err != nil {
			return &exitCodeError{code: exitInvalidWorld, err: err}
		}
		if err := file.RegisterMetrics(reg); err != nil {
			return err
		}
		store.Publish(world)
		source = "world " + f.world
	} else {
		var err error
		if kubeM, err = newKubeMode(&f.kube, store, log, reg); err != nil {
			return err
		}
		ready = kubeM.controller.Ready
		source = "kubernetes"
	}
	authority, err := ca.LoadOrCreate(f.caDir, f.trustDomain)
	if err != nil {
		return err
	}
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
	log.Info("causeway serving", "version", version, "source", source, "xds", xdsLis.Addr().String(),
		"metrics", metricsLis.Addr().String(), "trustDomain", f.trustDomain)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(ctx, func() { log.Info("shutting down") })
	parts := []servePart{
		{"xDS server", func() error { return srv.Serve(ctx, xdsLis) }},
		{"metrics server", func() error { return serveMetrics(ctx, metricsLis, reg, ready) }},
	}
	if kubeM != nil {
		parts = append(parts, kubeM.parts(ctx)...)
	} else {
		parts = append(parts, servePart{"world watcher", func() error { return file.Watch(ctx, f.world, store, log) }})
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

// serveMetrics serves /metrics, /healthz and /readyz on lis until ctx is
// done. /readyz answers 503 until ready() is true.
func serveMetrics(ctx context.Context, lis net.Listener, reg *prometheus.Registry, ready func() bool) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready: waiting for the first sync of every cluster\n", http.StatusServiceUnavailable)
			return
		}
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
