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
// same shape, so the steps give only their sum. At the end of the run
// (clients gone) the last --clusters-widen clusters get --clusters-eps more
// endpoints in every EndpointSlice; the live heap's growth divided by the
// endpoints added is the cost of one endpoint, and a Service's own cost is
// what remains of the per-cluster cost.

// widenResult is that measurement.
type widenResult struct {
	Clusters       int     `json:"clusters"`
	EndpointsAdded int     `json:"endpoints_added"`
	HeapBeforeMiB  float64 `json:"heap_live_before_mib"`
	HeapAfterMiB   float64 `json:"heap_live_after_mib"`
	PerEndpointB   float64 `json:"heap_per_endpoint_bytes"`
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
	// The clients just left: their streams, and the class snapshot held
	// for them, must be gone before the first sample.
	if err := waitNoClasses(ctx, p, time.Minute); err != nil {
		return fail(err)
	}
	time.Sleep(settleTime)
	before, err := sampleServeMemory(ctx, p, profile)
	if err != nil {
		return fail(err)
	}
	pub0, err := publishes(ctx, p)
	if err != nil {
		return fail(err)
	}
	w.HeapBeforeMiB = before.heap
	var jobs []func(i int) error
	for c := co.count - w.Clusters; c < co.count; c++ {
		cs := kubernetes.NewForConfigOrDie(fastConfig(env.Cluster(clusterName(c)).Config))
		jobs = append(jobs, func(i int) error { return addEndpoints(ctx, cs, c, i, co.eps) })
	}
	if err := runJobs(jobs, co.services, 4); err != nil {
		return fail(fmt.Errorf("adding endpoints: %w", err))
	}
	w.EndpointsAdded = w.Clusters * co.services * co.eps
	if err := waitPublishesSettle(ctx, p, pub0, time.Minute); err != nil {
		return fail(err)
	}
	time.Sleep(settleTime)
	after, err := sampleServeMemory(ctx, p, profile)
	if err != nil {
		return fail(err)
	}
	w.HeapAfterMiB = after.heap
	if after.heap <= before.heap {
		return fail(fmt.Errorf("live heap did not grow (%.1f → %.1f MiB): something else was freed meanwhile", before.heap, after.heap))
	}
	w.PerEndpointB = round2((after.heap - before.heap) * (1 << 20) / float64(w.EndpointsAdded))
	w.PerServiceKiB = round2((perClusterMiB*(1<<20) - float64(co.services*co.eps)*w.PerEndpointB) / float64(co.services) / 1024)
	w.Seconds = round2(time.Since(t).Seconds())
	return w
}

// addEndpoints appends eps ready endpoints to EndpointSlice i of cluster
// index c (addresses after its first eps).
func addEndpoints(ctx context.Context, cs kubernetes.Interface, c, i, eps int) error {
	s, err := cs.DiscoveryV1().EndpointSlices(vdNamespace).Get(ctx, vdName(i), metav1.GetOptions{})
	if err != nil {
		return err
	}
	n := len(s.Endpoints)
	for e := n; e < n+eps && e < 64; e++ {
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
