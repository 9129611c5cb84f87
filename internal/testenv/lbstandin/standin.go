package lbstandin

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

const (
	// syncTimeout bounds the first list of Services and EndpointSlices.
	syncTimeout = 30 * time.Second
	// maxRetries bounds the attempts for one Service (a status write that
	// conflicts, a port that is busy) before it is given up and logged; a
	// later change of the Service or its slices starts over.
	maxRetries = 10
	// apiTimeout bounds one status write.
	apiTimeout = 10 * time.Second
)

// Standin serves the LoadBalancer Services of one cluster.
type Standin struct {
	t       testing.TB
	client  kubernetes.Interface
	queue   workqueue.TypedRateLimitingInterface[string]
	svcs    corelisters.ServiceLister
	slices  discoverylisters.EndpointSliceLister
	errors  atomic.Int64
	stopped atomic.Bool

	mu     sync.Mutex
	pool   *pool
	served map[string]*service // by namespace/name
}

// service is what the stand-in runs for one Service.
type service struct {
	addr  netip.Addr
	ports map[int32]*forwarder
}

// Start watches client's Services and EndpointSlices and serves every
// LoadBalancer Service on an address from pool until t ends. It returns once
// the first list is in.
func Start(t testing.TB, client kubernetes.Interface, pool netip.Prefix) *Standin {
	t.Helper()
	p, err := newPool(pool)
	if err != nil {
		t.Fatalf("lbstandin: %v", err)
	}
	s := &Standin{
		t:      t,
		client: client,
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](
			50*time.Millisecond, 2*time.Second)),
		pool:   p,
		served: map[string]*service{},
	}
	factory := informers.NewSharedInformerFactory(client, 0)
	svcInf := factory.Core().V1().Services()
	sliceInf := factory.Discovery().V1().EndpointSlices()
	s.svcs, s.slices = svcInf.Lister(), sliceInf.Lister()
	if _, err := svcInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.enqueueObject,
		UpdateFunc: func(_, obj any) { s.enqueueObject(obj) },
		DeleteFunc: s.enqueueObject,
	}); err != nil {
		t.Fatalf("lbstandin: %v", err)
	}
	if _, err := sliceInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    s.enqueueSlice,
		UpdateFunc: func(_, obj any) { s.enqueueSlice(obj) },
		DeleteFunc: s.enqueueSlice,
	}); err != nil {
		t.Fatalf("lbstandin: %v", err)
	}
	stop := make(chan struct{})
	factory.Start(stop)
	var workers sync.WaitGroup
	workers.Add(1)
	go func() {
		defer workers.Done()
		for s.processNext() {
		}
	}()
	t.Cleanup(func() {
		s.stopped.Store(true)
		close(stop)
		s.queue.ShutDown()
		workers.Wait()
		factory.Shutdown()
		s.mu.Lock()
		defer s.mu.Unlock()
		for key, svc := range s.served {
			svc.close()
			delete(s.served, key)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("lbstandin: %v not listed within %v", typ, syncTimeout)
		}
	}
	return s
}

// Address is the address serving the Service namespace/name, if it has one.
func (s *Standin) Address(namespace, name string) (netip.Addr, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, ok := s.served[namespace+"/"+name]
	if !ok {
		return netip.Addr{}, false
	}
	return svc.addr, true
}

// Connections is how many connections the listener of the Service's port
// has accepted (forwarded or closed for want of an endpoint).
func (s *Standin) Connections(namespace, name string, port int32) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc, ok := s.served[namespace+"/"+name]; ok {
		if f, ok := svc.ports[port]; ok {
			return f.connections.Load()
		}
	}
	return 0
}

// Errors counts what could not be done after every retry (an exhausted
// pool, a port that stayed busy, a status write that kept failing).
func (s *Standin) Errors() int64 { return s.errors.Load() }

func (s *Standin) enqueueObject(obj any) {
	if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		s.queue.Add(key)
	}
}

// enqueueSlice queues the Service a slice belongs to.
func (s *Standin) enqueueSlice(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	slice, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return
	}
	if name := slice.Labels[discoveryv1.LabelServiceName]; name != "" {
		s.queue.Add(slice.Namespace + "/" + name)
	}
}

func (s *Standin) processNext() bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	err := s.sync(key)
	switch {
	case err == nil:
		s.queue.Forget(key)
	case s.queue.NumRequeues(key) < maxRetries:
		s.queue.AddRateLimited(key)
	default:
		s.queue.Forget(key)
		s.errors.Add(1)
		s.logf("lbstandin: Service %s: giving up after %d attempts: %v", key, maxRetries, err)
	}
	return true
}

// logf logs to t unless the test is over (t.Logf after the end panics).
func (s *Standin) logf(format string, args ...any) {
	if !s.stopped.Load() {
		s.t.Logf(format, args...)
	}
}

// sync makes the listeners and status of the Service key match the API.
func (s *Standin) sync(key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := s.svcs.Services(namespace).Get(name)
	if apierrors.IsNotFound(err) || (err == nil && !wanted(svc)) {
		s.drop(key)
		return nil
	}
	if err != nil {
		return err
	}
	addr, err := s.ensureListeners(key, svc)
	if err != nil {
		return err
	}
	return s.writeStatus(svc, addr)
}

// wanted reports whether the stand-in serves svc.
func wanted(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil && svc.DeletionTimestamp == nil
}

func (s *Standin) drop(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc, ok := s.served[key]; ok {
		svc.close()
		delete(s.served, key)
	}
	s.pool.release(key)
}

// ensureListeners opens a listener per TCP port of svc, closes those of
// ports gone, and points each at the ready endpoints of its port.
func (s *Standin) ensureListeners(key string, svc *corev1.Service) (netip.Addr, error) {
	backends, err := s.readyEndpoints(svc)
	if err != nil {
		return netip.Addr{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	addr, err := s.pool.get(key)
	if err != nil {
		return netip.Addr{}, err
	}
	st, ok := s.served[key]
	if !ok {
		st = &service{addr: addr, ports: map[int32]*forwarder{}}
		s.served[key] = st
	}
	want := map[int32]corev1.ServicePort{}
	for _, p := range svc.Spec.Ports {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			want[p.Port] = p
		}
	}
	for port, f := range st.ports {
		if _, ok := want[port]; !ok {
			f.close()
			delete(st.ports, port)
		}
	}
	var errs []error
	for port, sp := range want {
		f, ok := st.ports[port]
		if !ok {
			if f, err = listen(netip.AddrPortFrom(addr, uint16(port)), sp.Name); err != nil {
				errs = append(errs, fmt.Errorf("listen for port %d: %w", port, err))
				continue
			}
			st.ports[port] = f
		}
		f.portName.Store(&sp.Name)
		f.setBackends(backends[sp.Name])
	}
	if len(errs) > 0 {
		return addr, fmt.Errorf("%v", errs)
	}
	return addr, nil
}

func (st *service) close() {
	for port, f := range st.ports {
		f.close()
		delete(st.ports, port)
	}
}
