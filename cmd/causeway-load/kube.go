package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// The kube-apiserver figure: a management apiserver holding the
// VirtualDestinations and one apiserver per workload cluster holding the
// Services and EndpointSlices (created through client-go, as a cluster's
// endpoint controller would); causeway serve in Kubernetes mode; the change
// is an EndpointSlice update turning one endpoint not ready.

type kubeResult struct {
	VDs       int    `json:"virtual_destinations"`
	Endpoints int    `json:"endpoints"`
	Clients   int    `json:"clients"`
	Debounce  string `json:"debounce"`
	// BeyondDebounceP99 is the p99 minus the debounce quiet period: what
	// the target bounds. In Kubernetes mode changes are debounced
	// once, in discovery, so at best a change waits the quiet period.
	BeyondDebounceP99 float64   `json:"p99_beyond_debounce_ms"`
	SetupSec          float64   `json:"setup_seconds"`
	Convergence       dist      `json:"convergence"`
	Sotw              dist      `json:"convergence_sotw"`
	Delta             dist      `json:"convergence_delta"`
	PerChangeP99      []float64 `json:"per_change_p99_ms"`
	Samples           []float64 `json:"-"`
	Error             string    `json:"error,omitempty"`
}

const (
	kubeDebounceQuiet = 50 * time.Millisecond
	kubeDebounceMax   = 500 * time.Millisecond
)

var gvrVD = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "virtualdestinations"}

func fastConfig(c *rest.Config) *rest.Config {
	c = rest.CopyConfig(c)
	c.QPS, c.Burst = 2000, 4000
	return c
}

func runKube(ctx context.Context, o options) (_ *kubeResult, err error) {
	bins, err := kubeenv.FindBinaries()
	if err != nil {
		return nil, err
	}
	n := o.kubeVDs
	r := &kubeResult{VDs: n, Endpoints: n * len(benchClusters) * o.eps, Clients: o.clients,
		Debounce: fmt.Sprintf("quiet %v, max %v", kubeDebounceQuiet, kubeDebounceMax)}
	dir, err := os.MkdirTemp(o.out, "kube-")
	if err != nil {
		return r, err
	}
	// Kept (with serve's and the apiservers' logs) when something went wrong.
	defer func() {
		if err == nil && r.Error == "" {
			os.RemoveAll(dir)
		}
	}()
	t0 := time.Now()
	env, err := kubeenv.New(dir, bins, append([]string{"mgmt"}, benchClusters...)...)
	if err != nil {
		return r, err
	}
	defer env.Close()
	if err := env.ApplyCRDs(ctx, "mgmt"); err != nil {
		return r, err
	}
	logPhase("kube: apiservers up", time.Since(t0))
	t := time.Now()
	if err := seedKube(ctx, env, n, o.eps); err != nil {
		return r, err
	}
	logPhase(fmt.Sprintf("kube: seeded %d VDs", n), time.Since(t))
	var clusters strings.Builder
	clusters.WriteString("clusters:\n")
	for c, name := range benchClusters {
		fmt.Fprintf(&clusters, "- name: %s\n  kubeconfig: %s\n  network: n%d\n  locality: {region: r%d, zone: z%d}\n  eastWestGateways: [{address: 127.0.%d.100, port: 15443}]\n",
			name, env.Cluster(name).KubeconfigPath, c+1, c+1, c+1, c+1)
	}
	clustersPath := filepath.Join(dir, "clusters.yaml")
	if err := os.WriteFile(clustersPath, []byte(clusters.String()), 0o644); err != nil {
		return r, err
	}
	p, err := startServe(o.bin, dir, false, "", "--clusters", clustersPath, "--management-kubeconfig", env.Cluster("mgmt").KubeconfigPath,
		"--leader-elect=false", "--sync-timeout", "120s",
		"--debounce-quiet", kubeDebounceQuiet.String(), "--debounce-max", kubeDebounceMax.String())
	if err != nil {
		return r, err
	}
	defer p.stop()
	logPhase("kube: serve ready", time.Since(t))
	t = time.Now()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f, err := connect(cctx, p.xdsAddr, o.clients)
	if err != nil {
		return r, err
	}
	defer f.close()
	if err := f.waitSynced(ctx, o.syncTimeout); err != nil {
		return r, fmt.Errorf("initial sync: %w (serve log %s)", err, p.logPath)
	}
	logPhase(fmt.Sprintf("kube: initial sync of %d clients", o.clients), time.Since(t))
	r.SetupSec = round2(time.Since(t0).Seconds())
	cs := kubernetes.NewForConfigOrDie(fastConfig(env.Cluster(benchClusters[0]).Config))
	var all, sotw, delta []time.Duration
	t = time.Now()
	for c := 0; c < o.changes && (c == 0 || time.Now().Before(o.deadline)); c++ {
		i := (c * 7919) % n
		ds, err := f.measure(ctx, int64(c+1), edsName(i), endpointAddress(0, i, 0), o.convergeTimeout, func(mark func()) error {
			s, err := cs.DiscoveryV1().EndpointSlices(vdNamespace).Get(ctx, vdName(i), metav1.GetOptions{})
			if err != nil {
				return err
			}
			s.Endpoints[0].Conditions.Ready = ptr(false)
			mark()
			_, err = cs.DiscoveryV1().EndpointSlices(vdNamespace).Update(ctx, s, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			r.Error = fmt.Sprintf("change %d: %v (serve log %s)", c+1, err, p.logPath)
			fmt.Fprintln(os.Stderr, r.Error)
			break
		}
		all = append(all, ds...)
		s, d := f.split(ds)
		sotw, delta = append(sotw, s...), append(delta, d...)
		r.PerChangeP99 = append(r.PerChangeP99, summarize(ds).P99)
	}
	logPhase(fmt.Sprintf("kube: %d changes", len(r.PerChangeP99)), time.Since(t))
	r.Convergence, r.Sotw, r.Delta = summarize(all), summarize(sotw), summarize(delta)
	r.BeyondDebounceP99 = beyondDebounce(r.Convergence)
	for _, d := range all {
		r.Samples = append(r.Samples, float64(d)/float64(time.Millisecond))
	}
	return r, nil
}

// beyondDebounce is d's p99 less the debounce quiet period (0 when
// nothing was measured).
func beyondDebounce(d dist) float64 {
	if d.N == 0 {
		return 0
	}
	return round2(d.P99 - float64(kubeDebounceQuiet)/float64(time.Millisecond))
}

func ptr[T any](v T) *T { return &v }

// seedKube creates the namespace, VirtualDestinations, Services and
// EndpointSlices, with a few workers per apiserver.
func seedKube(ctx context.Context, env *kubeenv.Env, n, eps int) error {
	dyn, err := seedManagement(ctx, env.Cluster("mgmt"))
	if err != nil {
		return err
	}
	jobs := []func(i int) error{func(i int) error { return createVD(ctx, dyn, i) }}
	for c, name := range benchClusters {
		cs, err := seedNamespace(ctx, env.Cluster(name))
		if err != nil {
			return err
		}
		jobs = append(jobs, func(i int) error { return createWorkload(ctx, cs, c, i, eps) })
	}
	return runJobs(jobs, n, 8)
}

// seedManagement creates the VirtualDestinations' namespace in the
// management cluster and returns a fast dynamic client for it.
func seedManagement(ctx context.Context, mgmt *kubeenv.Cluster) (dynamic.Interface, error) {
	dyn, err := dynamic.NewForConfig(fastConfig(mgmt.Config))
	if err != nil {
		return nil, err
	}
	_, err = seedNamespace(ctx, mgmt)
	return dyn, err
}

// seedNamespace creates the Services' namespace in c and returns a fast
// client for it.
func seedNamespace(ctx context.Context, c *kubeenv.Cluster) (kubernetes.Interface, error) {
	cs := kubernetes.NewForConfigOrDie(fastConfig(c.Config))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: vdNamespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("cluster %s: namespace %s: %w", c.Name, vdNamespace, err)
	}
	return cs, nil
}

// createVD creates VirtualDestination i, selecting the Services labelled
// app=<its name> in every cluster.
func createVD(ctx context.Context, dyn dynamic.Interface, i int) error {
	vd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.causeway.dev/v1alpha1", "kind": "VirtualDestination",
		"metadata": map[string]any{"name": vdName(i), "namespace": vdNamespace},
		"spec": map[string]any{
			"hosts":    []any{vdHost(i)},
			"ports":    []any{map[string]any{"number": int64(vdPort), "protocol": "HTTP"}},
			"services": []any{map[string]any{"labels": map[string]any{"app": vdName(i)}}},
		},
	}}
	_, err := dyn.Resource(gvrVD).Namespace(vdNamespace).Create(ctx, vd, metav1.CreateOptions{})
	return err
}

// createWorkload creates Service i of cluster index c and its EndpointSlice
// of eps ready endpoints, as a cluster's endpoint controller would.
func createWorkload(ctx context.Context, cs kubernetes.Interface, c, i, eps int) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: vdName(i), Namespace: vdNamespace, Labels: map[string]string{"app": vdName(i)}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: vdPort, Protocol: corev1.ProtocolTCP, AppProtocol: ptr("http")}}},
	}
	if _, err := cs.CoreV1().Services(vdNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: vdName(i), Namespace: vdNamespace, Labels: map[string]string{discoveryv1.LabelServiceName: vdName(i)}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(vdPort)), Protocol: ptr(corev1.ProtocolTCP)}},
	}
	for e := 0; e < eps; e++ {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{endpointAddress(c, i, e)}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}})
	}
	_, err := cs.DiscoveryV1().EndpointSlices(vdNamespace).Create(ctx, s, metav1.CreateOptions{})
	return err
}

// runJobs runs every job for i in [0, n), each with workers goroutines, and
// returns the first error (a worker stops at its first).
func runJobs(jobs []func(i int) error, n, workers int) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, job := range jobs {
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					if err := job(i); err != nil {
						mu.Lock()
						if first == nil {
							first = err
						}
						mu.Unlock()
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	return first
}
