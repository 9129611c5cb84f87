package translator

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// envoyMaxEjectionTime is Envoy's default cap on an ejection's length; it
// is raised to the base ejection time when that is longer, as Envoy itself
// would.
const envoyMaxEjectionTime = 300 * time.Second

// validOutlier returns op's config with every field set: unset fields take
// the API defaults, out-of-range ones (world files are not validated by an
// API server) are reported on r and take the defaults too.
func validOutlier(op *model.OutlierDetectionPolicy, r *Resources) *v1alpha1.OutlierDetectionConfig {
	obj := policyObject("OutlierDetectionPolicy", op)
	in := &op.Spec.Config
	errs := in.ConsecutiveErrorsOrDefault()
	if errs < 1 {
		r.report(obj, "spec.config.consecutiveErrors", "%d is below 1; using %d", errs, v1alpha1.DefaultConsecutiveErrors)
		errs = v1alpha1.DefaultConsecutiveErrors
	}
	interval := in.IntervalOrDefault()
	if interval <= 0 {
		r.report(obj, "spec.config.interval", "%s is not positive; using %s", interval, v1alpha1.DefaultInterval)
		interval = v1alpha1.DefaultInterval
	}
	base := in.BaseEjectionTimeOrDefault()
	if base <= 0 {
		r.report(obj, "spec.config.baseEjectionTime", "%s is not positive; using %s", base, v1alpha1.DefaultBaseEjectionTime)
		base = v1alpha1.DefaultBaseEjectionTime
	}
	pct := in.MaxEjectionPercentOrDefault()
	if pct < 0 || pct > 100 {
		r.report(obj, "spec.config.maxEjectionPercent", "%d is outside 0..100; using %d", pct, v1alpha1.DefaultMaxEjectionPercent)
		pct = v1alpha1.DefaultMaxEjectionPercent
	}
	return &v1alpha1.OutlierDetectionConfig{
		ConsecutiveErrors:  &errs,
		Interval:           &metav1.Duration{Duration: interval},
		BaseEjectionTime:   &metav1.Duration{Duration: base},
		MaxEjectionPercent: &pct,
	}
}

// applyOutlier turns on passive health checking for cluster c with every
// field explicit, so a config dump shows exactly what is enforced and no
// Envoy default (max_ejection_percent 10, success-rate ejection on) sneaks in:
//
//   - consecutive_5xx: consecutiveErrors responses 5xx (connection failures
//     count as 503, since local and external errors are not split);
//   - consecutive_gateway_failure: the same count of gateway errors (502,
//     503, 504 and connection failures), so an endpoint that times out or
//     refuses connections is ejected even among 500s that reset the 5xx run;
//   - success-rate and failure-percentage ejection off (enforcing 0): they
//     need many hosts and much traffic to be meaningful, and they would
//     eject hosts the policy never asked about;
//   - max_ejection_percent as configured (default 100, not Envoy's 10: with
//     10% a small pool never ejects enough to fail over).
//
// It also sets common_lb_config.healthy_panic_threshold to 0. Envoy's
// default (50%) makes a priority level whose hosts are mostly ejected
// "panic" and balance over all of them again, ejected ones included, so
// traffic keeps going to failing hosts instead of failing over to a
// healthy lower priority. With 0, traffic moves to the next priority that
// has healthy hosts; with every host ejected Envoy answers 503 "no healthy
// upstream" rather than sending requests known to fail.
func applyOutlier(c *clusterv3.Cluster, cfg *v1alpha1.OutlierDetectionConfig) {
	errs := uint32(cfg.ConsecutiveErrorsOrDefault())
	base := cfg.BaseEjectionTimeOrDefault()
	c.OutlierDetection = &clusterv3.OutlierDetection{
		Consecutive_5Xx:                        wrapperspb.UInt32(errs),
		EnforcingConsecutive_5Xx:               wrapperspb.UInt32(100),
		ConsecutiveGatewayFailure:              wrapperspb.UInt32(errs),
		EnforcingConsecutiveGatewayFailure:     wrapperspb.UInt32(100),
		Interval:                               durationpb.New(cfg.IntervalOrDefault()),
		BaseEjectionTime:                       durationpb.New(base),
		MaxEjectionTime:                        durationpb.New(max(base, envoyMaxEjectionTime)),
		MaxEjectionPercent:                     wrapperspb.UInt32(uint32(cfg.MaxEjectionPercentOrDefault())),
		EnforcingSuccessRate:                   wrapperspb.UInt32(0),
		EnforcingFailurePercentage:             wrapperspb.UInt32(0),
		EnforcingFailurePercentageLocalOrigin:  wrapperspb.UInt32(0),
		EnforcingConsecutiveLocalOriginFailure: wrapperspb.UInt32(0),
		EnforcingLocalOriginSuccessRate:        wrapperspb.UInt32(0),
		// Local-origin errors (connect failures, timeouts) count as 5xx
		// and gateway failures above; false is the proto default, so it
		// does not show in YAML, but it is a decision, not an omission.
		SplitExternalLocalOriginErrors: false,
	}
	// A copy: an EDS cluster's CommonLbConfig is shared (edsShared).
	lb := &clusterv3.Cluster_CommonLbConfig{}
	if c.CommonLbConfig != nil {
		lb = proto.Clone(c.CommonLbConfig).(*clusterv3.Cluster_CommonLbConfig)
	}
	lb.HealthyPanicThreshold = &typev3.Percent{Value: 0}
	c.CommonLbConfig = lb
}
