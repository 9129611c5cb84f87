package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

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
