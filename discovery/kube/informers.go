package kube

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// Reachability probing of workload clusters. The probe is what notices an
// outage while nothing changes (a watch may sit idle); watch errors make it
// noticed sooner.
const (
	defaultProbeInterval = 2 * time.Second
	probeTimeout         = 2 * time.Second
)

// workloadCluster is one client of a workload cluster with its informers.
// A rotation runs two for the same cluster name until the new one synced.
type workloadCluster struct {
	spec clusterSpec
	log  *slog.Logger
	// kick asks the controller to rebuild the world; onSynced is called
	// once the caches first synced.
	kick, onSynced func()

	client         kubernetes.Interface
	factory        informers.SharedInformerFactory
	services       corelisters.ServiceLister
	endpointSlices discoverylisters.EndpointSliceLister
	pods           corelisters.PodLister
	nodes          corelisters.NodeLister
	hasSynced      []cache.InformerSynced
	probe          func(context.Context) error
	probeInterval  time.Duration

	synced    atomic.Bool
	startedAt time.Time
	// rotationWarned is set once a rotation waiting for this client was
	// reported as slow (owned by the controller loop).
	rotationWarned bool

	mu               sync.Mutex
	reachable        bool
	unreachableSince time.Time

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// newWorkloadCluster sets up informers on client; start runs them.
func newWorkloadCluster(spec clusterSpec, client kubernetes.Interface, probeInterval time.Duration, log *slog.Logger, kick, onSynced func()) (*workloadCluster, error) {
	wc := &workloadCluster{
		spec:          spec,
		probeInterval: probeInterval,
		log:           log.With("cluster", spec.info.Name),
		kick:          kick,
		onSynced:      onSynced,
		client:        client,
		reachable:     true,
	}
	wc.factory = informers.NewSharedInformerFactory(client, 0)
	f := wc.factory
	svc := f.Core().V1().Services()
	// Only slices that belong to a Service: the model has no use for others.
	slicesInf := f.InformerFor(&discoveryv1.EndpointSlice{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return discoveryinformers.NewFilteredEndpointSliceInformer(c, metav1.NamespaceAll, resync,
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
			func(o *metav1.ListOptions) { o.LabelSelector = discoveryv1.LabelServiceName })
	})
	pods := f.Core().V1().Pods()
	nodes := f.Core().V1().Nodes()
	type entry struct {
		kind      string
		inf       cache.SharedIndexInformer
		transform cache.TransformFunc
		// filterNoops skips updates the transform made identical.
		filterNoops bool
	}
	for _, e := range []entry{
		{"Service", svc.Informer(), transformMeta, false},
		{"EndpointSlice", slicesInf, transformMeta, false},
		{"Pod", pods.Informer(), transformPod, true},
		{"Node", nodes.Informer(), transformNode, true},
	} {
		if err := e.inf.SetTransform(sizeLimited(e.kind, e.inf.GetStore(), MaxObjectBytes, wc.log, e.transform)); err != nil {
			return nil, err
		}
		if err := e.inf.SetWatchErrorHandler(wc.watchError); err != nil {
			return nil, err
		}
		if _, err := e.inf.AddEventHandler(kickHandler(kick, e.filterNoops)); err != nil {
			return nil, err
		}
		wc.hasSynced = append(wc.hasSynced, e.inf.HasSynced)
	}
	wc.services = svc.Lister()
	wc.endpointSlices = discoverylisters.NewEndpointSliceLister(slicesInf.GetIndexer())
	wc.pods = pods.Lister()
	wc.nodes = nodes.Lister()
	wc.probe = restProbe(client)
	return wc, nil
}

// prober is implemented by unit tests' fake clientsets, which have no REST
// client to probe.
type prober interface {
	probeReadyz(context.Context) error
}

// restProbe asks the API server whether it is ready, through the client's own
// transport and credentials.
func restProbe(client kubernetes.Interface) func(context.Context) error {
	if p, ok := client.(prober); ok {
		return p.probeReadyz
	}
	rc := client.Discovery().RESTClient()
	if rc == nil {
		return func(context.Context) error { return nil }
	}
	return func(ctx context.Context) error {
		err := rc.Get().AbsPath("/readyz").Do(ctx).Error()
		// A server that answers but will not let us read /readyz is up;
		// the informers report their own permission errors.
		if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
			return nil
		}
		return err
	}
}

// kickHandler wakes the controller on every change of an informer.
func kickHandler(kick func(), filterNoops bool) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(interface{}) { kick() },
		UpdateFunc: func(oldObj, newObj interface{}) {
			if filterNoops && sameApartFromResourceVersion(oldObj, newObj) {
				return
			}
			kick()
		},
		DeleteFunc: func(interface{}) { kick() },
	}
}

// start runs the informers and the reachability probe until stop.
func (wc *workloadCluster) start() {
	ctx, cancel := context.WithCancel(context.Background())
	wc.cancel = cancel
	wc.startedAt = time.Now()
	wc.factory.Start(ctx.Done())
	wc.done.Add(2)
	// spec belongs to the registry's goroutine, which may update it.
	source, started := wc.spec.source, wc.startedAt
	go func() {
		defer wc.done.Done()
		if cache.WaitForCacheSync(ctx.Done(), wc.hasSynced...) {
			wc.synced.Store(true)
			wc.log.Info("cluster synced", "source", source, "after", time.Since(started).Round(time.Millisecond))
			wc.onSynced()
		}
	}()
	go func() {
		defer wc.done.Done()
		wc.probeLoop(ctx)
	}()
}

// stop ends the informers and the probe and waits for them.
func (wc *workloadCluster) stop() {
	if wc.cancel == nil {
		return
	}
	wc.cancel()
	wc.factory.Shutdown()
	wc.done.Wait()
}

func (wc *workloadCluster) probeLoop(ctx context.Context) {
	t := time.NewTicker(wc.probeInterval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err := wc.probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		wc.setReachable(err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watchError receives every failed list or watch of the cluster's
// informers. An error the server sent (forbidden, not found) means it is
// reachable, so only transport errors mark the cluster unreachable.
func (wc *workloadCluster) watchError(r *cache.Reflector, err error) {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if status.Status().Code == http.StatusGone { // expired resourceVersion: the reflector relists
			return
		}
		wc.log.Warn("cluster list/watch failed", "error", err.Error())
		return
	}
	wc.log.Debug("cluster list/watch failed", "error", err.Error())
	wc.setReachable(err)
}

// setReachable records a probe or watch result and wakes the controller on
// a change.
func (wc *workloadCluster) setReachable(err error) {
	wc.mu.Lock()
	was := wc.reachable
	wc.reachable = err == nil
	if was && err != nil {
		wc.unreachableSince = time.Now()
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	wc.mu.Unlock()
	switch {
	case was && err != nil:
		wc.log.Warn("cluster unreachable; keeping its last known endpoints", "error", msg)
		wc.kick()
	case !was && err == nil:
		wc.log.Info("cluster reachable again")
		wc.kick()
	}
}

// health reports reachability and since when the cluster is unreachable.
func (wc *workloadCluster) health() (reachable bool, since time.Time) {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	return wc.reachable, wc.unreachableSince
}

// objects lists the cluster's cached objects. They are shared with the
// cache: readers must not modify them. The lists are in no particular
// order: BuildWorld orders what it converts itself, and sorting every
// object at every rebuild would cost more than converting the few that
// changed.
func (wc *workloadCluster) objects() *WorkloadObjects {
	all := labels.Everything()
	o := &WorkloadObjects{}
	o.Services, _ = wc.services.List(all)
	o.EndpointSlices, _ = wc.endpointSlices.List(all)
	o.Pods, _ = wc.pods.List(all)
	o.Nodes, _ = wc.nodes.List(all)
	o.Services = withoutStandIns(o.Services)
	o.EndpointSlices = withoutStandIns(o.EndpointSlices)
	o.Pods = withoutStandIns(o.Pods)
	o.Nodes = withoutStandIns(o.Nodes)
	return o
}

// sortByKey sorts objects by namespace/name.
func sortByKey[T metav1.Object](objs []T) {
	sort.Slice(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}
