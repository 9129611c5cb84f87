package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/internal/admin"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

type serveFlags struct {
	world, xdsAddress, metricsAddress, caDir, trustDomain, logLevel string
	// logFormat is text or json; processLogs also routes the process-wide
	// loggers (slog.Default, log, grpclog) through serve's (the command
	// sets it; tests running several servers do not).
	logFormat   string
	processLogs bool
	// registry, when set, is the one serve registers its metrics on
	// (tests read every metric's label names from it); nil: a new one.
	registry *metricsRegistry
	// pprofAddress serves net/http/pprof when set (off by default).
	pprofAddress string
	// adminAddress serves the debug endpoints (serve_admin.go); "": off.
	adminAddress string
	// xDS transport security: plaintext without authentication, the
	// serving certificate's DNS names, and the per-identity stream limit.
	xdsInsecure    bool
	xdsServerNames []string
	xdsMaxStreams  int
	// worldGuard holds world file reloads that may be a write in progress.
	worldGuard file.Guard
	// Slow, silent and long-lived clients (see xds.Options).
	xdsSendBudgetHold, xdsResponseTimeout, xdsFirstRequestTimeout, xdsMaxConnectionAge time.Duration
	xdsMaxStreamsPerConn                                                               int
	// debounceQuiet and debounceMax bound how world changes are batched.
	debounceQuiet, debounceMax time.Duration
	// handoffTimeout bounds the gateway/east-west handoff's wait; 0 turns it off.
	handoffTimeout time.Duration
	ca             caFlags
	// controllerName is the GatewayClass controllerName Causeway owns.
	controllerName string
	// kube holds the Kubernetes mode flags, used when world is empty.
	kube kubeFlags
}

// servePart is one long-running piece of the server.
type servePart struct {
	name string
	run  func() error
}

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
Lease) writes status back to the management cluster and, with --provision
(the default), deploys each Gateway's proxies (Envoy Deployment, Service,
ServiceAccount, bootstrap ConfigMap in --proxy-namespace) in the workload
clusters that serve it, with the settings of the GatewayParameters its
GatewayClass names; the proxies reach xDS at --provision-xds-address.

World mode (--world) serves a world file instead, reloading it when it
changes; a world file that stops loading is logged and the last good world
stays in effect. --world excludes the Kubernetes flags. A world file with
no documents is never served. A new world that drops more than
--world-shrink-threshold percent of the served VirtualDestinations,
HTTPRoutes, Gateways and Services (or all of one kind), or whose last line
is unfinished, is held until the file has stayed unchanged for
--world-confirm-delay: a write caught halfway is not served. Replace the
file atomically (write a file in the same directory, rename it over).

xDS is served over TLS with a certificate from the built-in CA (DNS names
--xds-server-name, IP addresses of --xds-address), renewed at half its
lifetime. Every stream must authenticate: a client certificate from the CA
(causeway certs issue) whose identity is the proxy's role and cluster, or in
Kubernetes mode a service-account token (causeway-<role> in
--proxy-namespace) accepted by the TokenReview API of the cluster the proxy
claims. A node claiming another role or cluster is refused. --xds-insecure
serves plaintext without any authentication, for development only.

Workload certificates are issued by a built-in CA whose root is kept in
--ca-dir. A root is created only on first start: where one existed before
(the directory's root-history or trust bundle, in Kubernetes mode the
ConfigMap causeway-ca-root, --ca-expect-root-fingerprint) serve refuses to
start without it unless --ca-allow-new-root.

Metrics are served on --metrics-address at /metrics, liveness at /healthz
and readiness at /readyz (Kubernetes mode: once every cluster synced or
--sync-timeout passed). Debug endpoints (/debug/proxies, read by causeway
proxy-status) are served on --admin-address, loopback by default. SIGINT or SIGTERM stops the server gracefully.`,
		Example: `  causeway serve --management-kubeconfig mgmt.kubeconfig --clusters clusters.yaml
  causeway serve --clusters clusters.yaml   # inside the management cluster
  causeway serve --world examples/demo/world.yaml
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
			f.processLogs = true
			return runServe(ctx, f, cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.world, "world", "", "world mode: world file to serve instead of Kubernetes")
	fs.StringVar(&f.xdsAddress, "xds-address", "127.0.0.1:18000", "address the xDS gRPC server listens on")
	fs.StringVar(&f.metricsAddress, "metrics-address", "127.0.0.1:9091", "address serving /metrics, /healthz and /readyz")
	addAdminFlags(fs, f)
	fs.StringVar(&f.pprofAddress, "pprof-address", "", "address serving net/http/pprof at /debug/pprof/ (off when empty; for profiling, never expose it)")
	fs.StringVar(&f.caDir, "ca-dir", "./.causeway/ca", "directory holding the CA root (a new root is created on first start only: see --ca-allow-new-root)")
	fs.StringVar(&f.trustDomain, "trust-domain", "causeway.local", "SPIFFE trust domain of issued certificates")
	addCAFlags(fs, &f.ca)
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text (key=value) or json (one object a line)")
	fs.BoolVar(&f.xdsInsecure, "xds-insecure", false, "DEVELOPMENT ONLY: serve xDS in plaintext without authenticating proxies (anyone reaching --xds-address gets any proxy's configuration and private keys)")
	fs.StringSliceVar(&f.xdsServerNames, "xds-server-name", []string{xds.DefaultServerName}, "DNS names in the xDS serving certificate (what proxies verify; repeat or comma-separate)")
	fs.IntVar(&f.xdsMaxStreams, "xds-max-streams-per-client", xds.DefaultMaxStreamsPerIdentity, "open xDS streams allowed per authenticated proxy identity (more are refused with RESOURCE_EXHAUSTED; 0: the default)")
	fs.DurationVar(&f.xdsSendBudgetHold, "xds-send-budget-hold", xds.DefaultSendBudgetHold, "a large response holds its share of the send budget at most this long without an answer, and waits for one at most this long (0: the default)")
	fs.DurationVar(&f.xdsResponseTimeout, "xds-response-timeout", xds.DefaultResponseTimeout, "close an xDS stream whose proxy leaves a response unanswered (no ACK or NACK, or not read) this long; it may reconnect (0: the default)")
	fs.DurationVar(&f.xdsFirstRequestTimeout, "xds-first-request-timeout", xds.DefaultFirstRequestTimeout, "close an xDS stream that sends no request this long after opening (0: the default)")
	fs.IntVar(&f.xdsMaxStreamsPerConn, "xds-max-streams-per-connection", xds.DefaultMaxStreamsPerConn, "concurrent xDS streams allowed on one connection, in every mode including --xds-insecure (Envoy uses one; 0: the default)")
	fs.DurationVar(&f.xdsMaxConnectionAge, "xds-max-connection-age", xds.DefaultMaxConnectionAge, "close xDS connections after about this long (±10%, streams get 1m to end) so proxies reconnect and spread over the replicas after a rollout (0: the default; negative: never)")
	fs.DurationVar(&f.debounceQuiet, "debounce-quiet", xds.DefaultDebounceQuiet, "push world changes once they have been quiet this long (Kubernetes mode: batch informer events into one world this way; 0: the default)")
	fs.DurationVar(&f.debounceMax, "debounce-max", xds.DefaultDebounceMax, "push world changes at the latest this long after the first change of a burst")
	fs.IntVar(&f.worldGuard.ShrinkThreshold, "world-shrink-threshold", file.DefaultGuard.ShrinkThreshold, "world mode: percentage of the served VirtualDestinations, HTTPRoutes, Gateways and Services a new world may drop and be served at once; a world dropping more, or every object of one of those kinds, waits for --world-confirm-delay (100: a shrinking world never waits)")
	fs.DurationVar(&f.worldGuard.ConfirmDelay, "world-confirm-delay", file.DefaultGuard.ConfirmDelay, "world mode: how long the world file must stay unchanged before a held world (see --world-shrink-threshold, or a file whose last line is unfinished) is served; a newer file replaces it meanwhile (0: serve at once)")
	fs.DurationVar(&f.handoffTimeout, "handoff-timeout", xds.DefaultHandoffTimeout, "when endpoints leave or arrive, gateways and east-west gateways get them in order (gateways stop sending before east-west gateways drop them, east-west gateways learn them before gateways send), each step waiting at most this long for the proxies' answers (0: no handoff)")
	fs.StringVar(&f.controllerName, "controller-name", model.DefaultControllerName, "GatewayClass controllerName Causeway owns: only Gateways of GatewayClasses with it are served and get status (both modes)")
	addKubeFlags(fs, &f.kube)
	return cmd
}

// runServe runs until ctx is done or a part fails.
func runServe(ctx context.Context, f *serveFlags, stderr io.Writer) error {
	if f.logFormat == "" {
		f.logFormat = "text"
	}
	log, err := newServeLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	if f.processLogs {
		installProcessLoggers(log)
	}
	if f.debounceQuiet < 0 || f.debounceMax < 0 || (f.debounceMax > 0 && f.debounceMax < f.debounceQuiet) {
		return fmt.Errorf("--debounce-quiet %s, --debounce-max %s: want 0 <= quiet <= max (0: the default)", f.debounceQuiet, f.debounceMax)
	}

	reg := f.registry
	if reg == nil {
		reg = newMetricsRegistry()
	}
	store := &model.Store{}
	var (
		source string
		kubeM  *kubeMode
		// worldWatcher is world mode's source, loaded once here and
		// reloading from its Run.
		worldWatcher *file.Watcher
		ready        = func() bool { return true }
	)
	if f.world != "" {
		// Refuse to start on a world that does not load rather than serve
		// an empty one; later breakage keeps the last good world instead.
		// So world mode is ready from the start: the first load is done.
		if err := file.RegisterMetrics(reg); err != nil {
			return err
		}
		if err := f.worldGuard.Check(); err != nil {
			return fmt.Errorf("--world-shrink-threshold, --world-confirm-delay: %w", err)
		}
		if worldWatcher, err = file.NewWatcher(f.world, store, log, f.worldGuard); err != nil {
			return err
		}
		defer worldWatcher.Close()
		worldWatcher.SetControllerName(f.controllerName)
		if err := worldWatcher.Load(); err != nil {
			return &exitCodeError{code: exitInvalidWorld, err: err}
		}
		source = "world " + f.world
	} else {
		f.kube.debounceQuiet, f.kube.debounceMax = f.debounceQuiet, f.debounceMax
		f.kube.controllerName = f.controllerName
		if kubeM, err = newKubeMode(&f.kube, store, log, reg); err != nil {
			return err
		}
		ready = kubeM.controller.Ready
		source = "kubernetes"
	}
	authority, err := loadServeCA(ctx, f, kubeM, log)
	if err != nil {
		return err
	}
	if kubeM != nil {
		if err := kubeM.setupProvisioner(f, authority); err != nil {
			return err
		}
	}
	if f.handoffTimeout < 0 {
		return fmt.Errorf("--handoff-timeout %s: must not be negative (0 turns the handoff off)", f.handoffTimeout)
	}
	if f.xdsMaxStreams < 0 {
		return fmt.Errorf("--xds-max-streams-per-client %d: must not be negative", f.xdsMaxStreams)
	}
	if f.xdsMaxStreamsPerConn < 0 || f.xdsSendBudgetHold < 0 || f.xdsResponseTimeout < 0 || f.xdsFirstRequestTimeout < 0 {
		return fmt.Errorf("--xds-max-streams-per-connection %d, --xds-send-budget-hold %s, --xds-response-timeout %s, --xds-first-request-timeout %s: must not be negative (0: the default)",
			f.xdsMaxStreamsPerConn, f.xdsSendBudgetHold, f.xdsResponseTimeout, f.xdsFirstRequestTimeout)
	}
	opts := xds.Options{
		// Kubernetes discovery batches changes itself, with these flags:
		// one debounce, not two in a row.
		DebounceQuiet: f.debounceQuiet, DebounceMax: f.debounceMax, SourceDebounced: kubeM != nil,
		Store: store, CA: authority, Log: log, Registry: reg, CertTTL: f.ca.certTTL,
		Insecure: f.xdsInsecure, ServerNames: f.xdsServerNames, MaxStreamsPerIdentity: f.xdsMaxStreams,
		SendBudgetHold: f.xdsSendBudgetHold, ResponseTimeout: f.xdsResponseTimeout, FirstRequestTimeout: f.xdsFirstRequestTimeout,
		MaxStreamsPerConnection: f.xdsMaxStreamsPerConn, MaxConnectionAge: f.xdsMaxConnectionAge,
		HandoffTimeout: f.handoffTimeout,
	}
	if f.handoffTimeout == 0 {
		opts.HandoffTimeout = -1 // off (Options' 0 is the default)
	}
	if kubeM != nil {
		opts.ProxyNamespace, opts.TokenReviewer = f.kube.proxyNamespace, kubeM.tokenReviewer
	}
	srv, err := xds.NewServer(opts)
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
	adminLis, err := listenAdmin(f.adminAddress, log)
	if err != nil {
		xdsLis.Close()
		metricsLis.Close()
		return err
	}
	log.Info("causeway serving", "version", version, "source", source, "xds", xdsLis.Addr().String(),
		"metrics", metricsLis.Addr().String(), "admin", listenerAddress(adminLis), "trustDomain", f.trustDomain, "xdsTLS", !f.xdsInsecure)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(ctx, func() { log.Info("shutting down") })
	parts := []servePart{
		{"xDS server", func() error { return srv.Serve(ctx, xdsLis) }},
		{"metrics server", func() error { return serveMetrics(ctx, metricsLis, reg.Registry, ready) }},
	}
	if f.pprofAddress != "" {
		pp, err := pprofPart(ctx, f.pprofAddress)
		if err != nil {
			xdsLis.Close()
			metricsLis.Close()
			if adminLis != nil {
				adminLis.Close()
			}
			return err
		}
		parts = append(parts, pp)
	}
	if adminLis != nil {
		parts = append(parts, adminPart(ctx, adminLis, srv, store))
	}
	if kubeM != nil {
		parts = append(parts, kubeM.parts(ctx)...)
	} else {
		parts = append(parts, servePart{"world watcher", func() error { return worldWatcher.Run(ctx) }})
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
	return admin.Serve(ctx, lis, mux)
}
