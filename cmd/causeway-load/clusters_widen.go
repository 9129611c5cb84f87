package main

import (
	"context"
	"fmt"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// Separating per-endpoint from per-Service memory: every cluster has the
// same shape, so the steps give only their sum. After the steps (before
// any client connects) the last --clusters-widen clusters get
// --clusters-eps more endpoints in every EndpointSlice, and then lose them
// again; the live heap's growth and shrinkage divided by the endpoints
// added (their mean) is the cost of one endpoint, and a Service's own cost
// is what remains of the per-cluster cost.

// widenResult is that measurement.
type widenResult struct {
	Clusters       int     `json:"clusters"`
	EndpointsAdded int     `json:"endpoints_added"`
	HeapBeforeMiB  float64 `json:"heap_live_before_mib"`
	HeapAfterMiB   float64 `json:"heap_live_after_mib"`
	// HeapRestoredMiB is after the added endpoints were removed again.
	HeapRestoredMiB float64 `json:"heap_live_restored_mib"`
	PerEndpointB    float64 `json:"heap_per_endpoint_bytes"`
	// PerServiceKiB is a Service's cost without its endpoints: the
	// per-cluster heap less its endpoints', per Service.
	PerServiceKiB float64 `json:"heap_per_service_without_endpoints_kib"`
	Seconds       float64 `json:"seconds"`
	Error         string  `json:"error,omitempty"`
}

func widenClusters(ctx context.Context, env *kubeenv.Env, p *serveProc, co clustersOptions, perClusterMiB float64, profile string) *widenResult {
	w := &widenResult{Clusters: min(co.widen, co.count)}
	t := time.Now()
	fail := func(err error) *widenResult {
		w.Error = err.Error()
		return w
	}
	// A connected proxy's class snapshot would change with the world.
	if err := waitNoClasses(ctx, p, time.Minute); err != nil {
		return fail(err)
	}
	before, err := sampleServeMemory(ctx, p, profile)
	if err != nil {
		return fail(err)
	}
	pub0, err := publishes(ctx, p)
	if err != nil {
		return fail(err)
	}
	w.HeapBeforeMiB = before.heap
	// resize sets every EndpointSlice of the widened clusters to n
	// endpoints, waits for serve to publish the world and samples it.
	resize := func(n int, pub float64) (serveMemory, float64, error) {
		var jobs []func(i int) error
		for c := co.count - w.Clusters; c < co.count; c++ {
			cs := kubernetes.NewForConfigOrDie(fastConfig(env.Cluster(clusterName(c)).Config))
			jobs = append(jobs, func(i int) error { return resizeEndpoints(ctx, cs, c, i, n) })
		}
		if err := runJobs(jobs, co.services, 4); err != nil {
			return serveMemory{}, 0, fmt.Errorf("resizing EndpointSlices to %d endpoints: %w", n, err)
		}
		if err := waitPublishesSettle(ctx, p, pub, time.Minute); err != nil {
			return serveMemory{}, 0, err
		}
		time.Sleep(settleTime)
		m, err := sampleServeMemory(ctx, p, profile)
		if err != nil {
			return serveMemory{}, 0, err
		}
		pub, err = publishes(ctx, p)
		return m, pub, err
	}
	after, pub1, err := resize(2*co.eps, pub0)
	if err != nil {
		return fail(err)
	}
	restored, _, err := resize(co.eps, pub1)
	if err != nil {
		return fail(err)
	}
	w.EndpointsAdded = w.Clusters * co.services * co.eps
	w.HeapAfterMiB, w.HeapRestoredMiB = after.heap, restored.heap
	grew, shrank := after.heap-before.heap, after.heap-restored.heap
	if grew <= 0 || shrank <= 0 {
		return fail(fmt.Errorf("live heap %.1f → %.1f → %.1f MiB did not follow the endpoints added and removed", before.heap, after.heap, restored.heap))
	}
	w.PerEndpointB = round2((grew + shrank) / 2 * (1 << 20) / float64(w.EndpointsAdded))
	w.PerServiceKiB = round2((perClusterMiB*(1<<20) - float64(co.services*co.eps)*w.PerEndpointB) / float64(co.services) / 1024)
	w.Seconds = round2(time.Since(t).Seconds())
	return w
}

// resizeEndpoints gives EndpointSlice i of cluster index c exactly n ready
// endpoints (its first n addresses).
func resizeEndpoints(ctx context.Context, cs kubernetes.Interface, c, i, n int) error {
	s, err := cs.DiscoveryV1().EndpointSlices(vdNamespace).Get(ctx, vdName(i), metav1.GetOptions{})
	if err != nil {
		return err
	}
	s.Endpoints = s.Endpoints[:0]
	for e := 0; e < n && e < 64; e++ {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{endpointAddress(c, i, e)}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}})
	}
	_, err = cs.DiscoveryV1().EndpointSlices(vdNamespace).Update(ctx, s, metav1.UpdateOptions{})
	return err
}

func publishes(ctx context.Context, p *serveProc) (float64, error) {
	m, err := scrape(ctx, p.metricsAddr)
	if err != nil {
		return 0, err
	}
	return m["causeway_kube_world_publishes_total"], nil
}

// waitPublishesSettle waits until serve published a world after from and
// then none for two seconds (its debounce is far shorter), at most timeout.
func waitPublishesSettle(ctx context.Context, p *serveProc, from float64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last, since := from, time.Now()
	for time.Now().Before(deadline) {
		n, err := publishes(ctx, p)
		if err != nil {
			return err
		}
		if n != last {
			last, since = n, time.Now()
		}
		if last > from && time.Since(since) >= 2*time.Second {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("serve's world publishes did not settle within %v", timeout)
}

// waitNoClasses waits until serve holds no proxy class (no open stream), at
// most timeout.
func waitNoClasses(ctx context.Context, p *serveProc, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		m, err := scrape(ctx, p.metricsAddr)
		if err != nil {
			return err
		}
		n := m["causeway_xds_active_classes"]
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("serve still holds %.0f proxy classes %v after the clients left", n, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
