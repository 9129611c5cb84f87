package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

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
	// widen is how many clusters get more endpoints after the steps (per-endpoint
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
	if co.widen > 0 && r.Costs != nil {
		t := time.Now()
		r.Widen = widenClusters(ctx, env, p, co, r.Costs.HeapPerClusterMiB, filepath.Join(dir, "heap.pprof"))
		logPhase(fmt.Sprintf("clusters: %d endpoints added and removed", r.Widen.EndpointsAdded), time.Since(t))
	}
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
	return r, nil
}

// clustersCPUProfileSec is how long serve's CPU is profiled from the first
// change (the changes usually take longer).
const clustersCPUProfileSec = 10

// settleTime lets serve's debounced rebuild and publish finish before a
// sample.
const settleTime = 3 * time.Second
