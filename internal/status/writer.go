package status

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gwinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"

	"github.com/causeway-dev/causeway/model"
)

// Defaults for Options; the lease timings are the usual controller ones.
const (
	DefaultLeaseName     = "causeway-status"
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
	DefaultDebounce      = 200 * time.Millisecond
)

// maxAttempts bounds the writes of one object per sync when it keeps
// conflicting; the next sync tries again.
const maxAttempts = 5

// Options configure a Writer. Config, Store and Namespace are required.
type Options struct {
	// Config reaches the management cluster.
	Config *rest.Config
	// Store is the model the statuses are computed from.
	Store *model.Store
	// Namespace holds the Lease (the control plane's namespace).
	Namespace string
	// LeaseName defaults to DefaultLeaseName.
	LeaseName string
	// Identity names this replica in the Lease; defaults to the host name
	// plus the process ID.
	Identity string
	Log      *slog.Logger
	// Registry gets the metrics; nil leaves them unregistered.
	Registry prometheus.Registerer

	// Zero values mean the defaults above; tests shorten them.
	LeaseDuration, RenewDeadline, RetryPeriod, Debounce time.Duration

	// WhileLeading run beside the status writes during every term of
	// this replica's leadership (the provisioner), until its context
	// ends; a term ends only once they returned.
	WhileLeading []func(context.Context)
}

// Writer writes statuses while it holds the Lease. Build one with
// NewWriter and call Run.
type Writer struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	kube    kubernetes.Interface
	dyn     dynamic.Interface
	gw      gwclient.Interface
	changes <-chan struct{} // the Store's wake-ups
	kick    chan struct{}   // object changes seen by the informers

	vdInformer, classInformer, gatewayInformer, routeInformer cache.SharedIndexInformer
	// Causeway's other kinds (own.go).
	externalInformer, failoverInformer, outlierInformer, workspaceInformer cache.SharedIndexInformer

	// recent remembers this replica's own last write per object until the
	// informer has caught up with it (see latest).
	mu     sync.Mutex
	recent map[string]written
}

// written is an object as UpdateStatus returned it, and the
// resourceVersion it replaced.
type written struct {
	fromVersion string
	obj         metav1.Object
}

// NewWriter checks opts and prepares the clients; nothing talks to the API
// server until Run.
func NewWriter(opts Options) (*Writer, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("status writer: Config is required")
	case opts.Store == nil:
		return nil, errors.New("status writer: Store is required")
	case opts.Namespace == "":
		return nil, errors.New("status writer: Namespace is required (it holds the Lease)")
	}
	if opts.LeaseName == "" {
		opts.LeaseName = DefaultLeaseName
	}
	if opts.Identity == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("status writer: identity: %w", err)
		}
		opts.Identity = host + "_" + strconv.Itoa(os.Getpid())
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&opts.LeaseDuration, DefaultLeaseDuration}, {&opts.RenewDeadline, DefaultRenewDeadline}, {&opts.RetryPeriod, DefaultRetryPeriod}, {&opts.Debounce, DefaultDebounce}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	// leaderelection checks the same, but only when Run starts electing.
	if opts.RenewDeadline >= opts.LeaseDuration || time.Duration(float64(opts.RetryPeriod)*leaderelection.JitterFactor) >= opts.RenewDeadline {
		return nil, fmt.Errorf("status writer: want retryPeriod×%.1f < renewDeadline < leaseDuration, got %v, %v, %v",
			leaderelection.JitterFactor, opts.RetryPeriod, opts.RenewDeadline, opts.LeaseDuration)
	}
	w := &Writer{
		opts:    opts,
		log:     opts.Log.With("component", "status", "identity", opts.Identity),
		metrics: newMetrics(opts.Registry),
		changes: opts.Store.Subscribe(),
		kick:    make(chan struct{}, 1),
		recent:  map[string]written{},
	}
	var err error
	if w.kube, err = kubernetes.NewForConfig(opts.Config); err != nil {
		return nil, fmt.Errorf("status writer: %w", err)
	}
	if w.dyn, err = dynamic.NewForConfig(opts.Config); err != nil {
		return nil, fmt.Errorf("status writer: %w", err)
	}
	if w.gw, err = gwclient.NewForConfig(opts.Config); err != nil {
		return nil, fmt.Errorf("status writer: %w", err)
	}
	return w, nil
}

// Identity is the name this replica holds the Lease under.
func (w *Writer) Identity() string { return w.opts.Identity }

// Run watches the objects, campaigns for the Lease and, while holding it,
// writes statuses. It returns when ctx ends, releasing the Lease if held.
// Losing the Lease stops writing and makes it a candidate again.
func (w *Writer) Run(ctx context.Context) error {
	dynFactory := dynamicinformer.NewDynamicSharedInformerFactory(w.dyn, 0)
	gwFactory := gwinformers.NewSharedInformerFactory(w.gw, 0)
	w.vdInformer = dynFactory.ForResource(virtualDestinations).Informer()
	w.classInformer = gwFactory.Gateway().V1().GatewayClasses().Informer()
	w.gatewayInformer = gwFactory.Gateway().V1().Gateways().Informer()
	w.routeInformer = gwFactory.Gateway().V1().HTTPRoutes().Informer()
	w.externalInformer = dynFactory.ForResource(externalServices).Informer()
	w.failoverInformer = dynFactory.ForResource(failoverPolicies).Informer()
	w.outlierInformer = dynFactory.ForResource(outlierPolicies).Informer()
	w.workspaceInformer = dynFactory.ForResource(workspaces).Informer()
	for _, inf := range []cache.SharedIndexInformer{w.vdInformer, w.classInformer, w.gatewayInformer, w.routeInformer,
		w.externalInformer, w.failoverInformer, w.outlierInformer, w.workspaceInformer} {
		// Status writes compare whole statuses; managedFields only cost memory.
		if err := inf.SetTransform(stripManagedFields); err != nil {
			return fmt.Errorf("status writer: %w", err)
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { w.poke() },
			UpdateFunc: func(any, any) { w.poke() },
			DeleteFunc: func(any) { w.poke() },
		}); err != nil {
			return fmt.Errorf("status writer: %w", err)
		}
	}
	// Every replica watches, so a new leader starts from warm caches.
	dynFactory.Start(ctx.Done())
	gwFactory.Start(ctx.Done())
	defer dynFactory.Shutdown()
	defer gwFactory.Shutdown()

	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: w.opts.Namespace, Name: w.opts.LeaseName},
		Client:     w.kube.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: w.opts.Identity},
	}
	for ctx.Err() == nil {
		// OnStartedLeading runs in a goroutine of its own that may start
		// late: once this term is over (stopped) it must not begin, and
		// Run must not go on while it runs, so no write outlives the term.
		var (
			leading sync.WaitGroup
			termMu  sync.Mutex
			stopped bool
		)
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			Name:            w.opts.LeaseName,
			LeaseDuration:   w.opts.LeaseDuration,
			RenewDeadline:   w.opts.RenewDeadline,
			RetryPeriod:     w.opts.RetryPeriod,
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					termMu.Lock()
					if stopped {
						termMu.Unlock()
						return
					}
					leading.Add(1)
					termMu.Unlock()
					defer leading.Done()
					w.lead(lctx)
				},
				OnStoppedLeading: func() { w.metrics.leader.Set(0) },
				OnNewLeader: func(id string) {
					if id != w.opts.Identity {
						w.log.Info("status writer: another replica leads", "leader", id)
					}
				},
			},
		})
		if err != nil {
			return fmt.Errorf("status writer: %w", err)
		}
		le.Run(ctx)
		termMu.Lock()
		stopped = true
		termMu.Unlock()
		leading.Wait()
	}
	return nil
}

// stripManagedFields is an informer transform.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// poke asks the leader loop for a sync; wake-ups coalesce.
func (w *Writer) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// lead writes statuses until lctx ends: once at once, then after every
// change of the model or of the objects, debounced so that a burst of
// changes costs one sync.
func (w *Writer) lead(lctx context.Context) {
	if lctx.Err() != nil {
		return // the term ended before it began
	}
	w.metrics.leader.Set(1)
	defer w.metrics.leader.Set(0)
	var also sync.WaitGroup
	defer also.Wait()
	for _, f := range w.opts.WhileLeading {
		also.Add(1)
		go func() {
			defer also.Done()
			f(lctx)
		}()
	}
	w.log.Info("status writer: leading")
	w.mu.Lock()
	w.recent = map[string]written{}
	w.mu.Unlock()
	retry := time.Duration(0)
	for {
		if err := w.sync(lctx); err != nil && lctx.Err() == nil {
			retry = min(max(2*retry, time.Second), 30*time.Second)
			w.log.Warn("status writer: some statuses not written; retrying", "in", retry, "error", err)
		} else {
			retry = 0
		}
		var again <-chan time.Time
		if retry > 0 {
			again = time.After(retry)
		}
		select {
		case <-lctx.Done():
			return
		case <-w.changes:
		case <-w.kick:
		case <-again:
		}
		// Let the burst settle: whatever arrives meanwhile is covered by
		// the sync below, which reads the newest snapshot and caches.
		select {
		case <-lctx.Done():
			return
		case <-time.After(w.opts.Debounce):
		}
		drain(w.changes)
		drain(w.kick)
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
