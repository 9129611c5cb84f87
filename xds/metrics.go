package xds

import "github.com/prometheus/client_golang/prometheus"

// metrics are the server's Prometheus collectors.
type metrics struct {
	connected    *prometheus.GaugeVec   // role, cluster
	classes      prometheus.Gauge       // active classes (valid or not)
	published    prometheus.Counter     // snapshots handed to the cache
	rejected     prometheus.Counter     // snapshots that failed validation
	nacks        *prometheus.CounterVec // type
	invalid      prometheus.Counter     // streams whose node metadata was unusable
	diagnostics  *prometheus.GaugeVec   // class
	authFailures *prometheus.CounterVec // reason
	// streamsClosed counts streams the server closed, by reason;
	// budgetTimeouts send-budget shares that timed out, by reason.
	streamsClosed, budgetTimeouts *prometheus.CounterVec
	// tlsHandshakeFailures: reason, one of handshakeReasons
	tlsHandshakeFailures *prometheus.CounterVec

	translation   *prometheus.HistogramVec // scope: full | endpoints
	push          prometheus.Histogram
	convergence   *prometheus.HistogramVec // type
	snapshotBytes *prometheus.GaugeVec     // class
}

// latencyBuckets span 50µs to about 13 s.
var latencyBuckets = prometheus.ExponentialBuckets(50e-6, 2, 19)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "causeway_xds_connected_proxies",
			Help: "Open xDS streams by proxy role and cluster.",
		}, []string{"role", "cluster"}),
		classes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "causeway_xds_active_classes",
			Help: "Proxy classes with at least one open stream (each holds one snapshot).",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "causeway_snapshot_published_total",
			Help: "Class snapshots published to the xDS cache (new versions only).",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "causeway_snapshot_rejected_total",
			Help: "Class snapshots that failed validation and were not published; the last good one stays.",
		}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "causeway_xds_nacks_total",
			Help: "xDS responses a proxy rejected, by resource type URL (type).",
		}, []string{"type"}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "causeway_xds_invalid_nodes_total",
			Help: "xDS streams whose node metadata did not name a valid role and cluster; they get no configuration.",
		}),
		diagnostics: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "causeway_translation_diagnostics",
			Help: "Problems with the input found while translating a proxy class's configuration.",
		}, []string{"class"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "causeway_xds_auth_failures_total",
			Help: "xDS streams refused by authentication, identity binding or the per-identity stream limit, by reason.",
		}, []string{"reason"}),
		streamsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "causeway_xds_streams_closed_total",
			Help: "xDS streams the server closed, by reason: response_timeout (a response unanswered for --xds-response-timeout: the proxy does not answer or does not read), first_request_timeout (no first request within --xds-first-request-timeout), overrun (answers to responses the proxy cannot have received).",
		}, []string{"reason"}),
		budgetTimeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "causeway_xds_send_budget_timeouts_total",
			Help: "Large responses whose send-budget share timed out, by reason: hold (the share was returned without an answer after --xds-send-budget-hold), wait (sent over budget after waiting that long for a share).",
		}, []string{"reason"}),
		tlsHandshakeFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "causeway_xds_tls_handshake_failures_total",
			Help: "xDS connections whose TLS handshake failed, by reason: unknown_authority (the proxy and serve do not share a CA root), expired, bad_certificate, not_tls, other.",
		}, []string{"reason"}),
		translation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "causeway_translation_seconds",
			Help:    "Time to translate one proxy class: scope=full for a whole translation, scope=endpoints for the endpoint fast path (load assignments of the changed Services only), scope=routes for the route fast path (virtual hosts of the changed HTTPRoutes only).",
			Buckets: latencyBuckets,
		}, []string{"scope"}),
		push: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "causeway_push_seconds",
			Help:    "Time from translated resources to a class snapshot set in the xDS cache (hashing, validation, SetSnapshot answering open watches).",
			Buckets: latencyBuckets,
		}),
		convergence: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "causeway_convergence_seconds",
			Help:    "Time from publishing a resource type version of a class to its ACK, per stream, by resource type URL (type).",
			Buckets: latencyBuckets,
		}, []string{"type"}),
		snapshotBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "causeway_snapshot_bytes",
			Help: "Encoded size of every resource in a proxy class's published snapshot.",
		}, []string{"class"}),
	}
	for _, r := range handshakeReasons { // every reason shows, at 0
		m.tlsHandshakeFailures.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connected, m.classes, m.published, m.rejected, m.nacks, m.invalid, m.diagnostics, m.authFailures, m.streamsClosed, m.budgetTimeouts, m.tlsHandshakeFailures,
		m.translation, m.push, m.convergence, m.snapshotBytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
