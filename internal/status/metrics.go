package status

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Results of one status write attempt (label "result").
const (
	resultUpdated   = "updated"   // written
	resultUnchanged = "unchanged" // compared equal to the live status; nothing sent
	resultConflict  = "conflict"  // the object changed meanwhile; retried with a fresh read
	resultError     = "error"     // gave up; retried on the next sync
	// resultBehind: the model and the live object are of different
	// generations; nothing sent until they agree (the change that brings
	// the lagging side up to date triggers another sync).
	resultBehind = "behind"
)

type metrics struct {
	writes *prometheus.CounterVec
	leader prometheus.Gauge
}

// newMetrics registers on reg; a nil reg keeps them unregistered.
func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		writes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "causeway_status_writes_total",
			Help: "Status writes by object kind and result (updated, unchanged, conflict, error, behind). Only the leader writes.",
		}, []string{"kind", "result"}),
		leader: f.NewGauge(prometheus.GaugeOpts{
			Name: "causeway_leader",
			Help: "1 while this replica holds the status-writer Lease, else 0.",
		}),
	}
}
