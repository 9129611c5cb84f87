package xds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// Options configure a Server.
type Options struct {
	// Store holds the world; the server rebuilds every active class when it
	// publishes a new snapshot.
	Store *model.Store
	// CA issues each class's workload certificate.
	CA *ca.CA
	// Log receives the server's logs (default slog.Default()).
	Log *slog.Logger
	// Registry receives the server's metrics; nil registers nowhere.
	Registry prometheus.Registerer
	// CertTTL is the lifetime of issued workload certificates (default
	// ca.DefaultTTL). They are re-issued when less than half remains.
	CertTTL time.Duration

	// Insecure serves plaintext gRPC without authenticating proxies
	// (development only): any client can then fetch any class's
	// configuration and private key.
	Insecure bool
	// ServerNames are the DNS SANs of the xDS serving certificate (default
	// "localhost"); IP SANs come from the listen address.
	ServerNames []string
	// TokenReviewer authenticates "authorization: Bearer" service-account
	// tokens; nil turns token authentication off (client certificates only).
	TokenReviewer TokenReviewer
	// ProxyNamespace is the namespace whose causeway-gateway,
	// causeway-eastwest and causeway-client service accounts may
	// authenticate with tokens, each for its own role only (default
	// "causeway-system").
	ProxyNamespace string
	// MaxStreamsPerIdentity bounds the open ADS streams of one identity
	// (default 16), so one leaked credential cannot exhaust the server.
	MaxStreamsPerIdentity int
	// MaxRecvMsgSize bounds a request message in bytes (default 4 MiB).
	MaxRecvMsgSize int
	// SendBudget bounds the bytes of large responses (64 KiB and more) in
	// flight, from the send until the proxy answers, across all streams
	// (default 64 MiB): initial syncs of a big snapshot to many proxies
	// queue instead of each holding its own encoded copy.
	SendBudget int
	// SendBudgetHold bounds how long a response holds its share of the
	// send budget without an answer, and how long a response waits for a
	// share before it is sent over budget (default 5s): proxies that do
	// not answer delay others' large responses by at most this long.
	SendBudgetHold time.Duration
	// ResponseTimeout closes a stream whose proxy has not answered (ACK or
	// NACK) a response for this long (default 1m), whether it does not
	// answer or does not read; the proxy may reconnect.
	ResponseTimeout time.Duration
	// FirstRequestTimeout closes a stream that has not sent its first
	// request this long after opening (default 10s).
	FirstRequestTimeout time.Duration
	// MaxStreamsPerConnection bounds the concurrent streams of one
	// connection (HTTP/2 MAX_CONCURRENT_STREAMS, default 8; Envoy opens
	// one ADS stream per connection), in every mode.
	MaxStreamsPerConnection int
	// MaxConnectionAge closes connections after about this long (gRPC adds
	// ±10% jitter; default 30m; negative: never): the proxy reconnects, so
	// proxies spread over the replicas again after a rollout. Streams get
	// MaxConnectionAgeGrace (default 1m) to end before the connection is
	// closed under them.
	MaxConnectionAge, MaxConnectionAgeGrace time.Duration

	// DebounceQuiet is how long the world must stay unchanged before the
	// classes are updated (default 50ms); DebounceMax bounds the wait from
	// the first change of a burst (default 500ms), so a steady stream of
	// changes cannot hold updates back forever.
	DebounceQuiet, DebounceMax time.Duration
	// HandoffTimeout bounds how long an update waits for gateways and
	// east-west gateways to take the handoff worlds of an endpoint change
	// (handoff.go) before everyone gets the new world: 0 means
	// DefaultHandoffTimeout, a negative value turns the handoff off.
	HandoffTimeout time.Duration
	// SourceDebounced says the Store's writer batches changes already
	// (Kubernetes discovery does): every published world is pushed at
	// once, without a second debounce. Wake-ups still coalesce while a
	// rebuild runs.
	SourceDebounced bool
}

// Server serves Envoy configuration over state-of-the-world and delta ADS,
// one snapshot per proxy class (see the package documentation).
type Server struct {
	store   *model.Store
	ca      *ca.CA
	log     *slog.Logger
	certTTL time.Duration
	metrics *metrics
	cache   *feeds
	budget  *sendBudget
	codec   requestCodec
	updates <-chan struct{}
	// translate is translator.TranslateStreaming; tests replace it to feed
	// broken output.
	translate func(*model.Snapshot, model.Proxy, translator.Credentials, func(*endpointv3.ClusterLoadAssignment)) *translator.Resources
	// endpointsOnly and loadAssignments are the endpoint fast path
	// (translator.EndpointsOnlyChange and translator.LoadAssignments); nil
	// turns it off.
	endpointsOnly   func(old, new *model.Snapshot) (map[model.ServiceKey]bool, bool)
	loadAssignments func(*model.Snapshot, model.Proxy, map[model.ServiceKey]bool) []*endpointv3.ClusterLoadAssignment
	// routesOnly and routeUpdates are the route fast path
	// (translator.HTTPRoutesOnlyChange and translator.RouteUpdates); nil
	// turns it off.
	routesOnly   func(old, new *model.Snapshot) (map[string]bool, bool)
	routeUpdates func(old, new *model.Snapshot, p model.Proxy, changed map[string]bool) (*translator.RouteUpdate, bool)
	// conv times ACKs against publications (causeway_convergence_seconds).
	conv                       convergence
	debounceQuiet, debounceMax time.Duration
	sourceDebounced            bool
	// handoffTimeout bounds the handoff's wait; 0: no handoff.
	handoffTimeout time.Duration

	// mu guards the class registry, certificates and diagnostics state. It
	// is held while a class is built so builds never interleave.
	mu        sync.Mutex
	classes   map[string]*class
	certs     map[string]*leaf             // by SPIFFE ID
	diagWorld weak.Pointer[model.Snapshot] // weak: not a reason to keep an old world
	diagSeen  map[string]bool

	// smu guards the per-stream state and node pins; it is never held while
	// taking mu, so the NodeHash and response callbacks never wait for a build.
	smu       sync.Mutex
	streams   map[streamKey]*streamState
	pins      map[string]*pin
	streamIDs atomic.Int64

	// Transport security and authentication (see Options).
	insecure       bool
	serverNames    []string
	reviewer       TokenReviewer
	proxyNamespace string
	maxStreams     int
	maxRecv        int
	// Timeouts and per-connection limits, in every mode (see Options).
	responseTimeout, firstRequestTimeout time.Duration
	maxPerConn                           int
	maxAge, maxAgeGrace                  time.Duration
	logs                                 serverLogs
	// amu guards perIdentity, the open streams of each identity.
	amu         sync.Mutex
	perIdentity map[string]int
}

// Defaults of Options.
const (
	DefaultMaxStreamsPerIdentity = 16
	DefaultMaxRecvMsgSize        = 4 << 20
	DefaultSendBudget            = 64 << 20
	DefaultResponseTimeout       = time.Minute
	DefaultFirstRequestTimeout   = 10 * time.Second
	DefaultMaxStreamsPerConn     = 8
	DefaultMaxConnectionAge      = 30 * time.Minute
	DefaultMaxConnectionAgeGrace = time.Minute
	DefaultServerName            = "localhost"
	DefaultDebounceQuiet         = 50 * time.Millisecond
	DefaultDebounceMax           = 500 * time.Millisecond
	DefaultHandoffTimeout        = 2 * time.Second
)

// NewServer creates a Server; call Run or Serve to accept proxies.
func NewServer(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("xds: Options.Store is required")
	}
	if opts.CA == nil {
		return nil, errors.New("xds: Options.CA is required")
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("xds: register metrics: %w", err)
	}
	s := &Server{
		store:     opts.Store,
		ca:        opts.CA,
		log:       opts.Log,
		certTTL:   opts.CertTTL,
		metrics:   m,
		updates:   opts.Store.Subscribe(),
		translate: translator.TranslateStreaming,

		endpointsOnly:   translator.EndpointsOnlyChange,
		loadAssignments: translator.LoadAssignments,
		routesOnly:      translator.HTTPRoutesOnlyChange,
		routeUpdates:    translator.RouteUpdates,
		debounceQuiet:   opts.DebounceQuiet,
		debounceMax:     opts.DebounceMax,
		sourceDebounced: opts.SourceDebounced,
		classes:         map[string]*class{},
		certs:           map[string]*leaf{},
		streams:         map[streamKey]*streamState{},
		pins:            map[string]*pin{},

		insecure:       opts.Insecure,
		serverNames:    opts.ServerNames,
		reviewer:       opts.TokenReviewer,
		proxyNamespace: opts.ProxyNamespace,
		maxStreams:     opts.MaxStreamsPerIdentity,
		maxRecv:        opts.MaxRecvMsgSize,
		perIdentity:    map[string]int{},

		responseTimeout:     orDefault(opts.ResponseTimeout, DefaultResponseTimeout),
		firstRequestTimeout: orDefault(opts.FirstRequestTimeout, DefaultFirstRequestTimeout),
		maxPerConn:          orDefault(opts.MaxStreamsPerConnection, DefaultMaxStreamsPerConn),
		maxAge:              orDefault(opts.MaxConnectionAge, DefaultMaxConnectionAge),
		maxAgeGrace:         orDefault(opts.MaxConnectionAgeGrace, DefaultMaxConnectionAgeGrace),
		logs:                newServerLogs(),
	}
	if len(s.serverNames) == 0 {
		s.serverNames = []string{DefaultServerName}
	}
	if s.proxyNamespace == "" {
		s.proxyNamespace = ca.ProxyNamespace
	}
	if s.maxStreams <= 0 {
		s.maxStreams = DefaultMaxStreamsPerIdentity
	}
	if s.maxRecv <= 0 {
		s.maxRecv = DefaultMaxRecvMsgSize
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.debounceQuiet <= 0 {
		s.debounceQuiet = DefaultDebounceQuiet
	}
	if s.debounceMax <= 0 {
		s.debounceMax = DefaultDebounceMax
	}
	s.debounceMax = max(s.debounceMax, s.debounceQuiet)
	switch s.handoffTimeout = opts.HandoffTimeout; {
	case s.handoffTimeout == 0:
		s.handoffTimeout = DefaultHandoffTimeout
	case s.handoffTimeout < 0:
		s.handoffTimeout = 0
	}
	if s.certTTL <= 0 {
		s.certTTL = ca.DefaultTTL
	}
	if opts.SendBudget <= 0 {
		opts.SendBudget = DefaultSendBudget
	}
	if opts.MaxConnectionAge < 0 {
		s.maxAge = 0 // never
	}
	s.cache, s.codec = newFeeds(), newRequestCodec()
	s.budget = newSendBudget(opts.SendBudget, orDefault(opts.SendBudgetHold, DefaultSendBudgetHold))
	s.budget.timedOut = func(kind string) { m.budgetTimeouts.WithLabelValues(kind).Inc() }
	return s, nil
}

// orDefault is v, or def when v is zero or negative (the zero value of an
// option means its default).
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Run listens on listenAddress and serves until ctx is done.
func (s *Server) Run(ctx context.Context, listenAddress string) error {
	lis, err := net.Listen("tcp", listenAddress)
	if err != nil {
		return fmt.Errorf("xds: %w", err)
	}
	return s.Serve(ctx, lis)
}

// gRPC keepalive: ping idle proxies so dead connections (and their class
// registrations) go away, and tolerate Envoy's own keepalive pings.
// Serve adds the maximum connection age.
var (
	keepaliveParams = keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}
	keepalivePolicy = keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}
	// stopGrace bounds GracefulStop; streams normally end at once because
	// the xDS handlers return when ctx is done.
	stopGrace = 5 * time.Second
)

// Serve serves ADS on lis until ctx is done, then stops gracefully. It
// closes lis. Call it at most once per Server.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	ka := keepaliveParams
	if s.maxAge > 0 {
		ka.MaxConnectionAge, ka.MaxConnectionAgeGrace = s.maxAge, s.maxAgeGrace
	}
	gopts := []grpc.ServerOption{
		grpc.KeepaliveParams(ka),
		grpc.MaxConcurrentStreams(uint32(s.maxPerConn)),
		grpc.KeepaliveEnforcementPolicy(keepalivePolicy),
		grpc.MaxRecvMsgSize(s.maxRecv),
		grpc.ForceServerCodecV2(s.codec),
	}
	if s.insecure {
		s.log.Warn("xDS server is PLAINTEXT and does not authenticate proxies (--xds-insecure): " +
			"any client can fetch any proxy's configuration and private keys; for development only")
	} else {
		cfg, err := s.tlsConfig(lis.Addr())
		if err != nil {
			lis.Close()
			return err
		}
		gopts = append(gopts, grpc.Creds(s.reportHandshakes(credentials.NewTLS(cfg))), grpc.StreamInterceptor(s.authenticate))
	}
	g := grpc.NewServer(gopts...)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(g, adsServer{s: s, done: ctx.Done()})

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.watchStore(ctx) }()
	go func() { defer wg.Done(); s.renewCertificates(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	served := make(chan error, 1)
	go func() { served <- g.Serve(lis) }()
	s.log.Info("xDS server listening", "address", lis.Addr().String(), "tls", !s.insecure)

	select {
	case err := <-served:
		return fmt.Errorf("xds: serve: %w", err)
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopGrace):
		g.Stop()
		<-stopped
	}
	<-served
	s.log.Info("xDS server stopped")
	return nil
}

// watchStore updates every active class after the world changes, once it
// has been quiet for debounceQuiet or debounceMax after the first change of
// a burst, whichever comes first.
func (s *Server) watchStore(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.updates:
		}
		if !s.sourceDebounced && !debounce(ctx, s.updates, s.debounceQuiet, s.debounceMax) {
			return
		}
		s.handoff(ctx, s.store.Load())
		s.rebuildAll()
	}
}

// debounce waits until updates has been quiet for quiet, or maxWait has
// passed since it was called. It returns false when ctx is done.
func debounce(ctx context.Context, updates <-chan struct{}, quiet, maxWait time.Duration) bool {
	hard := time.NewTimer(maxWait)
	defer hard.Stop()
	q := time.NewTimer(quiet)
	defer q.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-updates: // coalesced into this update; restart the quiet period
			if !q.Stop() {
				select {
				case <-q.C:
				default:
				}
			}
			q.Reset(quiet)
		case <-q.C:
			return true
		case <-hard.C:
			return true
		}
	}
}

// renewCertificates re-publishes classes whose certificate passed half its
// lifetime, so proxies receive a fresh one over SDS long before expiry.
func (s *Server) renewCertificates(ctx context.Context) {
	interval := min(max(s.certTTL/20, 50*time.Millisecond), time.Minute)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.renewDue(time.Now())
		}
	}
}
