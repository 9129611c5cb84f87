package main

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metricsRegistry is serve's Prometheus registry. It keeps every collector
// registered on it, so a test can read the label names of vectors that have
// no series yet (a scrape shows only those with series).
type metricsRegistry struct {
	*prometheus.Registry
	mu         sync.Mutex
	registered []prometheus.Collector
}

// newMetricsRegistry holds the Go runtime, process and build-info metrics;
// the xDS server, discovery and the status writer add theirs.
func newMetricsRegistry() *metricsRegistry {
	r := &metricsRegistry{Registry: prometheus.NewRegistry()}
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newBuildInfoGauge(currentBuildInfo()))
	return r
}

func (r *metricsRegistry) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.registered = append(r.registered, c)
	return nil
}

func (r *metricsRegistry) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// collectors are the collectors registered so far.
func (r *metricsRegistry) collectors() []prometheus.Collector {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]prometheus.Collector(nil), r.registered...)
}

// newBuildInfoGauge is causeway_build_info: always 1, the build in its
// labels, so dashboards can show which version each replica runs.
func newBuildInfoGauge(b buildInfo) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "causeway_build_info",
		Help: "1, labelled with the version, the commit (revision) and the Go version this serve was built with.",
	}, []string{"version", "revision", "goversion"})
	g.WithLabelValues(b.Version, b.revisionText(), b.GoVersion).Set(1)
	return g
}
