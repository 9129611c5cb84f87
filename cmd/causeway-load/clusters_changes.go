package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

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
