package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// The many-clusters run (--clusters-scale): one etcd, a management
// apiserver with the VirtualDestinations and --clusters-count workload
// apiservers (each under its own etcd prefix) with --clusters-services
// Services of --clusters-eps endpoints each. One `causeway serve` in
// Kubernetes mode gets the workload clusters through cluster Secrets, added
// in steps (--clusters-steps), so each step's sync time, serve's CPU and
// memory after it, and every cluster's API-server traffic are measured;
// then ADS clients connect and EndpointSlice changes in random clusters are
// timed until every client ACKed. The clients are gateways of c1: they
// reach c1's endpoints directly and every other cluster's through its
// east-west gateway (127.0.<n>.100, weighted by the ready endpoints there).
// A change is a Service in one cluster losing every ready endpoint (one
// EndpointSlice update): the clients' assignment of that
// VirtualDestination then drops the endpoint (c1) or the cluster's
// east-west gateway (any other), which the clients watch for.

type clustersOptions struct {
	enabled       bool
	count         int
	services, eps int
	steps         []int
	changes       int
	changesBudget time.Duration
	// widen is how many clusters get more endpoints at the end (per-endpoint
	// memory); 0: none.
	widen int
}

// clusterStep is serve after the workload clusters of one step synced.
type clusterStep struct {
	Clusters int `json:"clusters"`
	// SyncSec is from the step's first cluster Secret to its last cluster
	// synced (informers listed).
	SyncSec float64 `json:"sync_seconds"`
	// CPUSec is serve's CPU time (user+system) during the step, settling
	// included.
	CPUSec  float64 `json:"cpu_seconds"`
	RSSMiB  float64 `json:"rss_mib"`
	HeapMiB float64 `json:"heap_live_mib"`
	// IdleCPUPct is serve's CPU use in a quiet window after the step.
	IdleCPUPct float64 `json:"idle_cpu_percent"`
}

// clusterSync is one workload cluster's registration.
type clusterSync struct {
	Name    string  `json:"name"`
	SyncSec float64 `json:"sync_seconds"`
	// ListBytes and WatchBytes are what its apiserver sent during the
	// initial sync: LIST response bodies and watch event objects.
	ListBytes  float64 `json:"list_bytes"`
	WatchBytes float64 `json:"watch_bytes"`
}

type clustersResult struct {
	Clusters            int     `json:"clusters"`
	ServicesPerCluster  int     `json:"services_per_cluster"`
	EndpointsPerService int     `json:"endpoints_per_service"`
	Clients             int     `json:"clients"`
	Debounce            string  `json:"debounce"`
	APIServersStartSec  float64 `json:"apiservers_start_seconds"`
	SeedSec             float64 `json:"seed_seconds"`
	// ServeBaseRSSMiB and ServeBaseHeapMiB are serve with the management
	// cluster only (no workload cluster).
	ServeBaseRSSMiB  float64       `json:"serve_base_rss_mib"`
	ServeBaseHeapMiB float64       `json:"serve_base_heap_live_mib"`
	Steps            []clusterStep `json:"steps"`
	PerCluster       []clusterSync `json:"per_cluster"`
	// KubeSideRSSMiB is every apiserver and etcd after the last step:
	// what the test clusters cost this machine, not Causeway.
	KubeSideRSSMiB float64       `json:"apiservers_and_etcd_rss_mib"`
	Costs          *clusterCosts `json:"costs,omitempty"`
	Projections    []projection  `json:"projections,omitempty"`
	// ClientsSyncSec is the ADS clients' initial sync; RSSWithClientsMiB
	// serve's RSS once they all ACKed, and after the changes.
	ClientsSyncSec    float64 `json:"clients_sync_seconds"`
	RSSWithClientsMiB float64 `json:"rss_with_clients_mib"`
	HeapProfile       string  `json:"heap_profile,omitempty"`
	// CPUProfile is serve during the changes.
	CPUProfile        string       `json:"cpu_profile,omitempty"`
	Widen             *widenResult `json:"widen,omitempty"`
	Convergence       dist         `json:"convergence"`
	Sotw              dist         `json:"convergence_sotw"`
	Delta             dist         `json:"convergence_delta"`
	BeyondDebounceP99 float64      `json:"p99_beyond_debounce_ms"`
	PerChangeP99      []float64    `json:"per_change_p99_ms"`
	// ChangedClusters names the cluster of each change.
	ChangedClusters []string `json:"changed_clusters"`
	// WatchBytesPerChange is what the changed cluster's apiserver sent on
	// watches per EndpointSlice change.
	WatchBytesPerChange spread    `json:"watch_bytes_per_change"`
	Samples             []float64 `json:"-"`
	Error               string    `json:"error,omitempty"`
}

// clusterName is workload cluster c (0-based): c1, c2, ...; c1 is the
// load clients' cluster (gatewayNode).
func clusterName(c int) string { return "c" + strconv.Itoa(c+1) }

// clustersCacheArgs shrink the apiservers: no watch cache for resources
// nobody here watches.
var clustersCacheArgs = []string{
	"--watch-cache-sizes=events#0,configmaps#0,serviceaccounts#0,limitranges#0,resourcequotas#0,podtemplates#0,replicationcontrollers#0,persistentvolumes#0,persistentvolumeclaims#0",
}

const (
	clustersNamespace = "causeway-system"
	// clustersStartParallel apiservers start at once.
	clustersStartParallel = 4
)

func runClusters(ctx context.Context, o options) (_ *clustersResult, err error) {
	co := o.clusters
	r := &clustersResult{Clusters: co.count, ServicesPerCluster: co.services, EndpointsPerService: co.eps, Clients: o.clients,
		Debounce: fmt.Sprintf("quiet %v, max %v", kubeDebounceQuiet, kubeDebounceMax)}
	bins, err := kubeenv.FindBinaries()
	if err != nil {
		return r, err
	}
	dir, err := os.MkdirTemp(o.out, "clusters-")
	if err != nil {
		return r, err
	}
	defer func() {
		if err == nil && r.Error == "" {
			os.RemoveAll(dir)
		}
	}()
	names := []string{"mgmt"}
	for c := 0; c < co.count; c++ {
		names = append(names, clusterName(c))
	}
	t := time.Now()
	env, err := kubeenv.NewWithOptions(dir, bins, kubeenv.Options{APIServerArgs: clustersCacheArgs, StartParallel: clustersStartParallel}, names...)
	if err != nil {
		return r, err
	}
	defer env.Close()
	r.APIServersStartSec = round2(time.Since(t).Seconds())
	logPhase(fmt.Sprintf("clusters: etcd and %d apiservers up", len(names)), time.Since(t))
	if err := env.ApplyCRDs(ctx, "mgmt"); err != nil {
		return r, err
	}
	t = time.Now()
	if err := seedClusters(ctx, env, co); err != nil {
		return r, err
	}
	r.SeedSec = round2(time.Since(t).Seconds())
	logPhase(fmt.Sprintf("clusters: seeded %d × %d Services × %d endpoints", co.count, co.services, co.eps), time.Since(t))

	p, err := startServe(o.bin, dir, true, "", "--management-kubeconfig", env.Cluster("mgmt").KubeconfigPath,
		"--namespace", clustersNamespace, "--leader-elect=false", "--sync-timeout", "120s",
		"--debounce-quiet", kubeDebounceQuiet.String(), "--debounce-max", kubeDebounceMax.String())
	if err != nil {
		return r, err
	}
	defer p.stop()
	mgmt := kubernetes.NewForConfigOrDie(fastConfig(env.Cluster("mgmt").Config))
	time.Sleep(settleTime)
	base, err := sampleServeMemory(ctx, p, filepath.Join(dir, "heap.pprof"))
	if err != nil {
		return r, err
	}
	r.ServeBaseRSSMiB, r.ServeBaseHeapMiB = base.rss, base.heap

	added := 0
	for _, target := range co.steps {
		step, syncs, err := addClusterStep(ctx, env, mgmt, p, added, target, o.syncTimeout, dir)
		if err != nil {
			return r, fmt.Errorf("step to %d clusters: %w (serve log %s)", target, err, p.logPath)
		}
		r.Steps = append(r.Steps, step)
		r.PerCluster = append(r.PerCluster, syncs...)
		fmt.Fprintf(os.Stderr, "clusters: %d synced in %.1f s; serve RSS %.0f MiB, live heap %.0f MiB, CPU %.1f s\n",
			target, step.SyncSec, step.RSSMiB, step.HeapMiB, step.CPUSec)
		added = target
	}
	r.Costs = deriveCosts(r)
	r.Projections = project(r, []int{100, 500})
	for _, n := range names {
		rss, _ := procStatus(env.Cluster(n).PID(), "VmRSS")
		r.KubeSideRSSMiB += rss
	}
	rss, _ := procStatus(env.EtcdPID(), "VmRSS")
	r.KubeSideRSSMiB = round2(r.KubeSideRSSMiB + rss)
	r.HeapProfile = filepath.Join(o.out, "clusters-heap.pprof")
	if err := fetch(ctx, "http://"+p.pprofAddr+"/debug/pprof/heap", r.HeapProfile); err != nil {
		r.HeapProfile = ""
	}

	t = time.Now()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f, err := connect(cctx, p.xdsAddr, o.clients)
	if err != nil {
		return r, err
	}
	defer f.close()
	if err := f.waitSynced(ctx, o.syncTimeout); err != nil {
		return r, fmt.Errorf("clients' initial sync: %w (serve log %s)", err, p.logPath)
	}
	r.ClientsSyncSec = round2(time.Since(t).Seconds())
	r.RSSWithClientsMiB, _ = procStatus(p.pid(), "VmRSS")
	logPhase(fmt.Sprintf("clusters: initial sync of %d clients", o.clients), time.Since(t))
	// A CPU profile of serve while the changes run: what a missed
	// convergence target spends its time on.
	profiled := make(chan error, 1)
	cpuProfile := filepath.Join(o.out, "clusters-cpu.pprof")
	go func() {
		profiled <- fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprofAddr, clustersCPUProfileSec), cpuProfile)
	}()
	measureClusterChanges(ctx, env, f, o, r, p.logPath)
	if rss, err := procStatus(p.pid(), "VmRSS"); err == nil {
		r.RSSWithClientsMiB = round2(max(r.RSSWithClientsMiB, rss))
	}
	if err := <-profiled; err == nil {
		r.CPUProfile = cpuProfile
	}
	f.close()
	cancel()
	if co.widen > 0 && r.Costs != nil {
		t = time.Now()
		r.Widen = widenClusters(ctx, env, p, co, r.Costs.HeapPerClusterMiB, filepath.Join(dir, "heap.pprof"))
		logPhase(fmt.Sprintf("clusters: %d more endpoints", r.Widen.EndpointsAdded), time.Since(t))
	}
	return r, nil
}

// clustersCPUProfileSec is how long serve's CPU is profiled from the first
// change (the changes usually take longer).
const clustersCPUProfileSec = 10

// settleTime lets serve's debounced rebuild and publish finish before a
// sample.
const settleTime = 3 * time.Second

// eastWestAddress is workload cluster c's east-west gateway.
func eastWestAddress(c int) string { return fmt.Sprintf("127.0.%d.100", c+1) }

// changedAddress is what leaves the c1 gateways' assignment of
// VirtualDestination i when Service i of cluster c has no ready endpoint.
func changedAddress(c, i int) string {
	if c == 0 {
		return endpointAddress(0, i, 0)
	}
	return eastWestAddress(c)
}

// measureClusterChanges turns every endpoint of a random Service in a
// random cluster not ready, co.changes times at most (and for at most
// co.changesBudget), each a different endpoint, and records the times until
// every client ACKed.
func measureClusterChanges(ctx context.Context, env *kubeenv.Env, f *fleet, o options, r *clustersResult, serveLog string) {
	co := o.clusters
	rng := rand.New(rand.NewPCG(14, uint64(co.count)))
	used := map[[2]int]bool{}
	var all, sotw, delta []time.Duration
	var watchBytes []float64
	t := time.Now()
	deadline := t.Add(co.changesBudget)
	for n := 0; n < co.changes && n < co.count*co.services && (n == 0 || time.Now().Before(deadline)); n++ {
		c, i := rng.IntN(co.count), rng.IntN(co.services)
		for used[[2]int{c, i}] {
			c, i = rng.IntN(co.count), rng.IntN(co.services)
		}
		used[[2]int{c, i}] = true
		cl := env.Cluster(clusterName(c))
		cs := kubernetes.NewForConfigOrDie(fastConfig(cl.Config))
		before, _ := apiserverTraffic(ctx, cs)
		ds, err := f.measure(ctx, int64(n+1), edsName(i), changedAddress(c, i), o.convergeTimeout, func(mark func()) error {
			s, err := cs.DiscoveryV1().EndpointSlices(vdNamespace).Get(ctx, vdName(i), metav1.GetOptions{})
			if err != nil {
				return err
			}
			for e := range s.Endpoints {
				s.Endpoints[e].Conditions.Ready = ptr(false)
			}
			mark()
			_, err = cs.DiscoveryV1().EndpointSlices(vdNamespace).Update(ctx, s, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			r.Error = fmt.Sprintf("change %d (cluster %s): %v (serve log %s)", n+1, cl.Name, err, serveLog)
			fmt.Fprintln(os.Stderr, r.Error)
			break
		}
		if after, err := apiserverTraffic(ctx, cs); err == nil {
			watchBytes = append(watchBytes, after.watch-before.watch)
		}
		all = append(all, ds...)
		s, d := f.split(ds)
		sotw, delta = append(sotw, s...), append(delta, d...)
		r.PerChangeP99 = append(r.PerChangeP99, summarize(ds).P99)
		r.ChangedClusters = append(r.ChangedClusters, cl.Name)
	}
	logPhase(fmt.Sprintf("clusters: %d changes", len(r.PerChangeP99)), time.Since(t))
	r.Convergence, r.Sotw, r.Delta = summarize(all), summarize(sotw), summarize(delta)
	r.BeyondDebounceP99 = beyondDebounce(r.Convergence)
	r.WatchBytesPerChange = spreadOf(watchBytes)
	for _, d := range all {
		r.Samples = append(r.Samples, float64(d)/float64(time.Millisecond))
	}
}

// addClusterStep registers workload clusters from..to-1 with serve (one
// cluster Secret each), waits until serve reports each synced, lets it
// settle and samples it.
func addClusterStep(ctx context.Context, env *kubeenv.Env, mgmt kubernetes.Interface, p *serveProc, from, to int, timeout time.Duration, dir string) (clusterStep, []clusterSync, error) {
	step := clusterStep{Clusters: to}
	cpu0, err := procCPU(p.pid())
	if err != nil {
		return step, nil, err
	}
	type pending struct {
		sync   clusterSync
		start  time.Time
		before traffic
		cs     kubernetes.Interface
		done   bool
	}
	var todo []*pending
	start := time.Now()
	for c := from; c < to; c++ {
		cl := env.Cluster(clusterName(c))
		cs := kubernetes.NewForConfigOrDie(cl.Config)
		before, err := apiserverTraffic(ctx, cs)
		if err != nil {
			return step, nil, fmt.Errorf("cluster %s metrics: %w", cl.Name, err)
		}
		kc, err := cl.Kubeconfig(kubeenv.AdminToken)
		if err != nil {
			return step, nil, err
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "cluster-" + cl.Name, Namespace: clustersNamespace,
				Labels: map[string]string{"causeway.dev/cluster": "true"},
				Annotations: map[string]string{"causeway.dev/cluster-name": cl.Name, "causeway.dev/network": fmt.Sprintf("n%d", c+1),
					"causeway.dev/east-west-gateways": eastWestAddress(c) + ":15443",
					"causeway.dev/region":             fmt.Sprintf("r%d", c+1), "causeway.dev/zone": fmt.Sprintf("z%d", c+1)}},
			Data: map[string][]byte{"kubeconfig": kc},
		}
		todo = append(todo, &pending{sync: clusterSync{Name: cl.Name}, start: time.Now(), before: before, cs: cs})
		if _, err := mgmt.CoreV1().Secrets(clustersNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			return step, nil, fmt.Errorf("cluster Secret for %s: %w", cl.Name, err)
		}
	}
	deadline := time.Now().Add(timeout)
	for left := len(todo); left > 0; {
		if time.Now().After(deadline) {
			return step, nil, fmt.Errorf("%d of %d clusters not synced within %v", left, len(todo), timeout)
		}
		m, err := scrape(ctx, p.metricsAddr)
		if err != nil {
			return step, nil, err
		}
		now := time.Now()
		for _, q := range todo {
			if !q.done && m[fmt.Sprintf(`causeway_cluster_synced{cluster=%q}`, q.sync.Name)] == 1 {
				q.done, left = true, left-1
				q.sync.SyncSec = round2(now.Sub(q.start).Seconds())
			}
		}
		select {
		case <-ctx.Done():
			return step, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	step.SyncSec = round2(time.Since(start).Seconds())
	time.Sleep(settleTime)
	var syncs []clusterSync
	for _, q := range todo {
		if after, err := apiserverTraffic(ctx, q.cs); err == nil {
			q.sync.ListBytes, q.sync.WatchBytes = after.list-q.before.list, after.watch-q.before.watch
		}
		syncs = append(syncs, q.sync)
	}
	cpu1, err := procCPU(p.pid())
	if err != nil {
		return step, nil, err
	}
	step.CPUSec = round2(cpu1 - cpu0)
	const idle = 3 * time.Second
	time.Sleep(idle)
	cpu2, err := procCPU(p.pid())
	if err != nil {
		return step, nil, err
	}
	step.IdleCPUPct = round2((cpu2 - cpu1) / idle.Seconds() * 100)
	mem, err := sampleServeMemory(ctx, p, filepath.Join(dir, "heap.pprof"))
	if err != nil {
		return step, nil, err
	}
	step.RSSMiB, step.HeapMiB = mem.rss, mem.heap
	return step, syncs, nil
}

type serveMemory struct{ rss, heap float64 }

// sampleServeMemory reads serve's RSS, then forces a garbage collection
// (a heap profile with gc=1, kept at profile) and reads the heap in use:
// the live heap, which unlike RSS does not depend on when the last
// collection ran.
func sampleServeMemory(ctx context.Context, p *serveProc, profile string) (serveMemory, error) {
	rss, err := procStatus(p.pid(), "VmRSS")
	if err != nil {
		return serveMemory{}, err
	}
	if err := fetch(ctx, "http://"+p.pprofAddr+"/debug/pprof/heap?gc=1", profile); err != nil {
		return serveMemory{}, err
	}
	m, err := scrape(ctx, p.metricsAddr)
	if err != nil {
		return serveMemory{}, err
	}
	return serveMemory{rss: round2(rss), heap: round2(m["go_memstats_heap_inuse_bytes"] / (1 << 20))}, nil
}
