package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/causeway-dev/causeway/model"
)

// Defaults for the outage and readiness times, when neither Options nor the
// clusters file set them.
const (
	DefaultStaleAfter  = 60 * time.Second
	DefaultSyncTimeout = 60 * time.Second
)

// Rebuild pacing: changes arriving together (a rollout touches many Pods and
// EndpointSlices at once) make one world, built DebounceQuiet after the
// last of them but never later than DebounceMax after the first.
const (
	DefaultDebounceQuiet = 100 * time.Millisecond
	DefaultDebounceMax   = time.Second
)

// Options configure a Controller.
type Options struct {
	// ClusterConfigPath is the clusters file (LoadClusterConfig); empty
	// means clusters come from Secrets only.
	ClusterConfigPath string
	// Management is the management cluster holding cluster Secrets,
	// Causeway resources and Gateway API objects. Nil means none: only
	// the clusters file's workloads are read, with no configuration.
	Management *rest.Config
	// Namespace holds the cluster Secrets (the control plane's namespace).
	Namespace string
	Store     *model.Store
	Log       *slog.Logger
	// Registry receives the controller's metrics; nil registers nowhere.
	Registry prometheus.Registerer
	// StaleAfter and SyncTimeout override the clusters file's values when
	// set; both default to 60s.
	StaleAfter, SyncTimeout time.Duration
	// DebounceQuiet and DebounceMax batch changes into one world: it is
	// built once they have been quiet for DebounceQuiet, and at the latest
	// DebounceMax after the first (defaults DefaultDebounceQuiet and
	// DefaultDebounceMax).
	DebounceQuiet, DebounceMax time.Duration
	// ControllerName is the GatewayClass controllerName Causeway owns
	// (empty: model.DefaultControllerName).
	ControllerName string
	// Provisioning marks the worlds as served by provisioned gateway
	// proxies (model.Snapshot.Provisioning).
	Provisioning bool
}

// Controller builds the model from Kubernetes: workload clusters' Services,
// EndpointSlices, Pods and Nodes plus the management cluster's Causeway
// resources and Gateway API objects, published to the Store on every change.
type Controller struct {
	opts      Options
	log       *slog.Logger
	metrics   *controllerMetrics
	newClient func(*rest.Config) (kubernetes.Interface, error)
	mgmtCl    *managementClients
	// probeInterval paces the clusters' health probes (shorter in unit
	// tests).
	probeInterval time.Duration

	ready   atomic.Bool
	running atomic.Bool
	// clients are the active workload clusters' clients by name, read by
	// ReviewToken from xDS goroutines; written by the Run loop.
	clients atomic.Pointer[map[string]kubernetes.Interface]
	kickCh  chan struct{}
	// reconcileCh asks for the cluster set to be brought in line with the
	// clusters file and Secrets.
	reconcileCh chan struct{}

	// Owned by the Run loop.
	reg               *registry
	mgmt              *managementInformers
	fileSpecs         []clusterSpec
	staleAfter        time.Duration
	syncTimeout       time.Duration
	debounceQuiet     time.Duration
	debounceMax       time.Duration
	started           time.Time
	secretsReconciled bool
	published         bool
	// worlds builds the world, converting again only what changed.
	worlds       worldCache
	lastProblems map[string]bool
}

// NewController checks the options, reads the clusters file and the
// kubeconfigs it names (errors wrap ErrInvalidClusterConfig) and makes the
// management cluster's clients. Nothing is contacted before Run.
func NewController(opts Options) (*Controller, error) {
	var mc *managementClients
	if opts.Management != nil {
		cfg := rest.CopyConfig(opts.Management)
		if cfg.UserAgent == "" {
			cfg.UserAgent = "causeway"
		}
		kc, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("management cluster: %w", err)
		}
		dc, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("management cluster: %w", err)
		}
		gc, err := gwclient.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("management cluster: %w", err)
		}
		mc = &managementClients{kube: kc, dynamic: dc, gateway: gc}
	}
	return newController(opts, mc, func(c *rest.Config) (kubernetes.Interface, error) { return kubernetes.NewForConfig(c) })
}

// newController is NewController with the clients injected (fake clientsets
// in unit tests).
func newController(opts Options, mc *managementClients, newClient func(*rest.Config) (kubernetes.Interface, error)) (*Controller, error) {
	if opts.Store == nil {
		return nil, errors.New("kube.Options.Store is required")
	}
	if mc != nil && opts.Namespace == "" {
		return nil, errors.New("kube.Options.Namespace is required with a management cluster")
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	specs, staleAfter, syncTimeout, err := loadFileClusters(opts.ClusterConfigPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidClusterConfig, err)
	}
	m, err := newControllerMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	return &Controller{
		opts: opts, log: opts.Log, metrics: m, newClient: newClient, mgmtCl: mc,
		probeInterval: defaultProbeInterval,
		kickCh:        make(chan struct{}, 1), reconcileCh: make(chan struct{}, 1),
		fileSpecs:     specs,
		staleAfter:    firstPositive(opts.StaleAfter, staleAfter, DefaultStaleAfter),
		syncTimeout:   firstPositive(opts.SyncTimeout, syncTimeout, DefaultSyncTimeout),
		debounceQuiet: firstPositive(opts.DebounceQuiet, DefaultDebounceQuiet),
		debounceMax:   max(firstPositive(opts.DebounceMax, DefaultDebounceMax), firstPositive(opts.DebounceQuiet, DefaultDebounceQuiet)),
	}, nil
}

// ErrInvalidClusterConfig wraps NewController's errors about the clusters
// file and the kubeconfigs it names, so callers can tell bad input from
// other failures.
var ErrInvalidClusterConfig = errors.New("invalid clusters file")

// Ready reports whether every cluster (and the management cluster) completed
// its first sync, or SyncTimeout passed since Run started. Once true it
// stays true: a cluster added later must not take a serving replica out of
// its Service.
func (c *Controller) Ready() bool { return c.ready.Load() }

func (c *Controller) kick() {
	select {
	case c.kickCh <- struct{}{}:
	default:
	}
}

func (c *Controller) kickReconcile() {
	select {
	case c.reconcileCh <- struct{}{}:
	default:
	}
}

// Run starts the informers and publishes worlds until ctx is done; it then
// stops every informer and returns nil. Nothing is published before Ready,
// so proxies never get a half-listed world.
func (c *Controller) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("kube.Controller.Run called twice")
	}
	c.started = time.Now()
	c.reg = newRegistry(c.log, c.newClient, c.kick, c.kickReconcile, c.syncTimeout)
	c.reg.probeInterval = c.probeInterval

	stop := make(chan struct{})
	if c.mgmtCl != nil {
		var err error
		c.mgmt, err = newManagementInformers(*c.mgmtCl, c.opts.Namespace, c.log, c.kick, c.kickReconcile)
		if err != nil {
			return err
		}
		c.mgmt.start(stop)
		go func() {
			if cache.WaitForCacheSync(stop, c.mgmt.hasSynced...) {
				c.log.Info("management cluster synced", "after", time.Since(c.started).Round(time.Millisecond))
				c.kickReconcile()
				c.kick()
			}
		}()
	}
	defer func() {
		close(stop)
		if c.mgmt != nil {
			c.mgmt.shutdown()
		}
		c.publishClients(nil)
		c.reg.stopAll()
	}()
	c.log.Info("Kubernetes discovery starting", "clustersFile", c.opts.ClusterConfigPath, "fileClusters", len(c.fileSpecs),
		"management", c.mgmt != nil, "namespace", c.opts.Namespace, "staleAfter", c.staleAfter, "syncTimeout", c.syncTimeout)
	c.reconcileClusters()

	var (
		debounceT     = newStoppedTimer()
		staleT        = newStoppedTimer()
		syncT         = time.NewTimer(c.syncTimeout)
		pending       bool
		firstKick     time.Time
		staleDeadline time.Time
	)
	defer func() { debounceT.Stop(); staleT.Stop(); syncT.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.reconcileCh:
			c.reconcileClusters()
			continue
		case <-c.kickCh:
			now := time.Now()
			if !pending {
				pending, firstKick = true, now
			}
			debounceT.Reset(min(c.debounceQuiet, max(0, firstKick.Add(c.debounceMax).Sub(now))))
			continue
		case <-debounceT.C:
		case <-staleT.C:
			staleDeadline = time.Time{}
		case <-syncT.C:
		}
		pending = false
		next := c.rebuild(time.Now())
		// Wake up when the next unreachable cluster turns stale.
		if !next.IsZero() && (staleDeadline.IsZero() || next.Before(staleDeadline)) {
			staleDeadline = next
			staleT.Reset(time.Until(next))
		}
	}
}

func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

func firstPositive(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d > 0 {
			return d
		}
	}
	return 0
}

// reconcileClusters brings the running clusters in line with the clusters
// file and the cluster Secrets.
func (c *Controller) reconcileClusters() {
	if c.reg.reconcile(c.reg.desired(c.fileSpecs, c.secretsIfSynced())) {
		c.kick()
	}
	c.publishClients(c.reg.activeClients())
	if c.mgmt == nil || c.mgmt.secretsSynced() {
		c.secretsReconciled = true
	}
	c.kick() // readiness may have changed
}

// secretsIfSynced returns the cluster Secrets, or nil until they are listed.
func (c *Controller) secretsIfSynced() []*corev1.Secret {
	if c.mgmt == nil || !c.mgmt.secretsSynced() {
		return nil
	}
	return c.mgmt.clusterSecrets()
}
