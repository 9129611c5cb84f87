package translator

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// vdPolicies are the policies that apply to one VirtualDestination: at most
// one FailoverPolicy and one OutlierDetectionPolicy (the oldest of each kind
// that selects it; the others get a diagnostic).
type vdPolicies struct {
	failover *model.FailoverPolicy
	outlier  *model.OutlierDetectionPolicy
	// mapping is the failover policy's locality mapping whose `from`
	// matches the proxy (nil: none); labels its priorityLabels keys.
	mapping *v1alpha1.LocalityMapping
	labels  []string
	// outlierConfig is the outlier policy's config with invalid fields
	// replaced by their defaults.
	outlierConfig *v1alpha1.OutlierDetectionConfig
}

// prioritized reports whether locality priority is on for the
// VirtualDestination: attaching either policy turns it on even when
// trafficDistribution is unset, since failing over (on readiness or on
// ejections) needs lower priorities to fail over to.
func (vp vdPolicies) prioritized(vd *model.VirtualDestination) bool {
	return vd.TrafficDistribution == model.TrafficDistributionPreferClose || vp.failover != nil || vp.outlier != nil
}

// policyIndex maps each VirtualDestination (by pointer into the snapshot)
// to its policies.
type policyIndex map[*model.VirtualDestination]vdPolicies

// policyObject names a policy in diagnostics.
func policyObject(kind string, o namespacedName) string {
	return kind + " " + o.GetNamespace() + "/" + o.GetName()
}

type namespacedName interface {
	GetNamespace() string
	GetName() string
}

// selectsVD reports whether sel (of a policy in namespace policyNS) selects
// vd: every given field must match; an empty namespace means the policy's.
func selectsVD(sel v1alpha1.ObjectSelector, policyNS string, vd *model.VirtualDestination) bool {
	ns := sel.Namespace
	if ns == "" {
		ns = policyNS
	}
	if vd.Namespace != ns || (sel.Name != "" && sel.Name != vd.Name) {
		return false
	}
	for k, v := range sel.Labels {
		if got, ok := vd.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// selectedVDs lists the VirtualDestinations any of a policy's selectors selects.
func selectedVDs(w *model.Snapshot, sels []v1alpha1.DestinationSelector, policyNS string) []*model.VirtualDestination {
	var out []*model.VirtualDestination
	vds := w.VirtualDestinations()
	for i := range vds {
		for _, s := range sels {
			if selectsVD(s.Selector, policyNS, &vds[i]) {
				out = append(out, &vds[i])
				break
			}
		}
	}
	return out
}

// policyOlder orders policies of one kind: older creationTimestamp first,
// then namespace/name (world files give no timestamps).
func policyOlder(a, b policyMeta) bool {
	aa, ba := model.Age{CreationTimestamp: a.ts}, model.Age{CreationTimestamp: b.ts}
	if aa.OlderThan(ba) || ba.OlderThan(aa) {
		return aa.OlderThan(ba)
	}
	return a.ns+"/"+a.name < b.ns+"/"+b.name
}

// indexPolicies attaches the snapshot's policies to VirtualDestinations
// and reports, on r, policies that select nothing, that lose to an older
// policy of the same kind on a VirtualDestination, and invalid config
// fields (world files are not validated by an API server).
func indexPolicies(w *model.Snapshot, proxy model.Locality, r *Resources) policyIndex {
	idx := policyIndex{}
	for _, fp := range w.FailoverPolicies() {
		obj := policyObject("FailoverPolicy", fp)
		vds := selectedVDs(w, fp.Spec.ApplyToDestinations, fp.Namespace)
		if len(vds) == 0 {
			r.report(obj, "spec.applyToDestinations", "selects no VirtualDestination")
			continue
		}
		cfg := validFailover(fp, r)
		for _, vd := range vds {
			cur := idx[vd]
			if cur.failover != nil && policyOlder(metaOf(cur.failover), metaOf(fp)) {
				reportShadowed(r, obj, vd, "FailoverPolicy", cur.failover)
				continue
			}
			if cur.failover != nil {
				reportShadowed(r, policyObject("FailoverPolicy", cur.failover), vd, "FailoverPolicy", fp)
			}
			cur.failover = fp
			cur.mapping = matchingMapping(cfg.LocalityMappings, proxy)
			cur.labels = nil
			if cfg.PriorityLabels != nil {
				cur.labels = cfg.PriorityLabels.Labels
			}
			idx[vd] = cur
		}
	}
	for _, op := range w.OutlierDetectionPolicies() {
		obj := policyObject("OutlierDetectionPolicy", op)
		vds := selectedVDs(w, op.Spec.ApplyToDestinations, op.Namespace)
		if len(vds) == 0 {
			r.report(obj, "spec.applyToDestinations", "selects no VirtualDestination")
			continue
		}
		cfg := validOutlier(op, r)
		for _, vd := range vds {
			cur := idx[vd]
			if cur.outlier != nil && policyOlder(metaOf(cur.outlier), metaOf(op)) {
				reportShadowed(r, obj, vd, "OutlierDetectionPolicy", cur.outlier)
				continue
			}
			if cur.outlier != nil {
				reportShadowed(r, policyObject("OutlierDetectionPolicy", cur.outlier), vd, "OutlierDetectionPolicy", op)
			}
			cur.outlier, cur.outlierConfig = op, cfg
			idx[vd] = cur
		}
	}
	return idx
}

// policyMeta is what policyOlder compares.
type policyMeta struct {
	ts       time.Time
	ns, name string
}

func metaOf(o metav1.Object) policyMeta {
	return policyMeta{ts: o.GetCreationTimestamp().Time, ns: o.GetNamespace(), name: o.GetName()}
}

func reportShadowed(r *Resources, loser string, vd *model.VirtualDestination, kind string, winner namespacedName) {
	r.report(loser, "spec.applyToDestinations",
		"%s already has the older %s %s/%s; this policy does not apply to it (one %s per VirtualDestination)",
		vdObject(vd), kind, winner.GetNamespace(), winner.GetName(), kind)
}

// fieldf formats a field path.
func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
