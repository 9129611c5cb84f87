package kube

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// controllerMetrics are per Controller (not package globals) so that several
// controllers, in tests, can each register on their own registry.
type controllerMetrics struct {
	synced, stale, reachable *prometheus.GaugeVec
	managementSynced         prometheus.Gauge
	builds                   prometheus.Counter
	buildProblems            prometheus.Gauge
	// labelled remembers the clusters with series, so a removed cluster's
	// series are deleted rather than frozen at their last value.
	labelled map[string]bool
}

func newControllerMetrics(reg prometheus.Registerer) (*controllerMetrics, error) {
	m := &controllerMetrics{
		synced: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "causeway_cluster_synced",
			Help: "1 once the cluster's informers completed their first list, 0 before.",
		}, []string{"cluster"}),
		stale: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "causeway_cluster_stale",
			Help: "1 while the cluster has been unreachable longer than the stale-after time: its last known endpoints rank below every fresh one.",
		}, []string{"cluster"}),
		reachable: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "causeway_cluster_reachable",
			Help: "1 while the cluster's API server answers its health probe and watches, 0 otherwise.",
		}, []string{"cluster"}),
		managementSynced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "causeway_management_synced",
			Help: "1 once the management cluster's informers (cluster Secrets, Causeway resources, Gateway API, Namespaces, TLS Secrets) completed their first list.",
		}),
		builds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "causeway_kube_world_publishes_total",
			Help: "Worlds built from Kubernetes and published (unchanged worlds are not republished).",
		}),
		buildProblems: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "causeway_kube_world_problems",
			Help: "Problems (objects or fields left out) in the last world built from Kubernetes; each is logged.",
		}),
		labelled: map[string]bool{},
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.synced, m.stale, m.reachable, m.managementSynced, m.builds, m.buildProblems} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering Kubernetes discovery metrics: %w", err)
		}
	}
	return m, nil
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// setCluster records one cluster's state.
func (m *controllerMetrics) setCluster(name string, synced, reachable, stale bool) {
	m.labelled[name] = true
	m.synced.WithLabelValues(name).Set(boolGauge(synced))
	m.reachable.WithLabelValues(name).Set(boolGauge(reachable))
	m.stale.WithLabelValues(name).Set(boolGauge(stale))
}

// forgetOthers deletes the series of clusters not in keep.
func (m *controllerMetrics) forgetOthers(keep map[string]bool) {
	for name := range m.labelled {
		if keep[name] {
			continue
		}
		delete(m.labelled, name)
		for _, v := range []*prometheus.GaugeVec{m.synced, m.reachable, m.stale} {
			v.DeleteLabelValues(name)
		}
	}
}
