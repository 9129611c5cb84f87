package translator

import (
	"strings"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// Limits that keep raw priorities inside their fields (see groupPriority):
// the API server enforces the same maxima, world files are checked here.
const (
	maxFailoverTargets = 64 // to entries per locality mapping
	maxPriorityLabels  = 16 // priorityLabels keys
	maxFailoverWeight  = 1000000
)

// Implicit labels every proxy and endpoint carries for priorityLabels (and
// subset selectors): where it runs. They override explicit labels of the
// same key, since they state facts Causeway knows.
const (
	regionLabel  = "topology.kubernetes.io/region"
	zoneLabel    = "topology.kubernetes.io/zone"
	subzoneLabel = "topology.istio.io/subzone"
)

// failoverRanking is the locality order of a VirtualDestination with a
// policy attached, for one proxy: PreferClose's levels (same subzone, zone,
// region), then the proxy's locality mapping, then everything else.
//
// Without weights, each `to` entry of the mapping is its own level in list
// order: "from us-east → to [eu-west, us-west]" tries eu-west, then
// us-west, then the rest. When any `to` entry sets a weight the mapping
// distributes instead: every `to` locality shares one level and its weight
// (unset = 1) multiplies the locality's load_balancing_weight, so weights
// actually split the failover traffic (with one level per entry they could
// never matter, as Envoy only balances between localities of one level).
type failoverRanking struct {
	proxy   model.Locality
	mapping *v1alpha1.LocalityMapping // nil: no mapping applies to the proxy
}

// distributes reports whether the mapping splits traffic by weight.
func (f failoverRanking) distributes() bool {
	if f.mapping == nil {
		return false
	}
	for _, t := range f.mapping.To {
		if t.Weight != 0 {
			return true
		}
	}
	return false
}

// target is the index of the first `to` entry l matches, or -1.
func (f failoverRanking) target(l model.Locality) int {
	if f.mapping == nil {
		return -1
	}
	for i, t := range f.mapping.To {
		if localityMatches(t.Region, t.Zone, t.SubZone, l) {
			return i
		}
	}
	return -1
}

func (f failoverRanking) levelOf(l model.Locality) (uint32, levelRule) {
	if lp, rule := closeness(f.proxy, l); lp < priorityOtherRegion || f.mapping == nil {
		return lp, rule
	}
	i := f.target(l)
	switch {
	case i < 0 && f.distributes():
		return priorityOtherRegion + 1, levelRule{kind: ruleUnmapped, target: -1}
	case i < 0:
		return priorityOtherRegion + uint32(len(f.mapping.To)), levelRule{kind: ruleUnmapped, target: -1}
	case f.distributes():
		return priorityOtherRegion, levelRule{kind: ruleMappedWeighted, target: i}
	}
	return priorityOtherRegion + uint32(i), levelRule{kind: ruleMappedTarget, target: i}
}

// level is levelOf without the rule.
func (f failoverRanking) level(l model.Locality) uint32 {
	p, _ := f.levelOf(l)
	return p
}

func (f failoverRanking) weight(l model.Locality) uint32 {
	if !f.distributes() || localityPriority(f.proxy, l) < priorityOtherRegion {
		return 1
	}
	if i := f.target(l); i >= 0 && f.mapping.To[i].Weight > 0 {
		return uint32(f.mapping.To[i].Weight)
	}
	return 1
}

// localityMatches reports whether l matches a locality pattern: every
// given (non-empty) field must be equal.
func localityMatches(region, zone, subzone string, l model.Locality) bool {
	return (region == "" || region == l.Region) && (zone == "" || zone == l.Zone) && (subzone == "" || subzone == l.Subzone)
}

// matchingMapping is the first mapping whose `from` matches the proxy's
// locality, or nil.
func matchingMapping(ms []v1alpha1.LocalityMapping, proxy model.Locality) *v1alpha1.LocalityMapping {
	for i := range ms {
		f := ms[i].From
		if localityMatches(f.Region, f.Zone, f.SubZone, proxy) {
			return &ms[i]
		}
	}
	return nil
}

// labelRank ranks an endpoint by priorityLabels, as Istio's
// failoverPriority does: len(keys) minus the number of leading keys that
// match, so 0 matches all. A key "k" matches when the proxy has label k and
// the endpoint has the same value; "k=v" matches endpoints whose label k is
// v (the only way to prefer a label a gateway proxy cannot have, e.g.
// "version=v2"). A proxy's labels are the implicit ones only.
func labelRank(keys []string, proxy, ep labelSet) uint32 {
	n := 0
	for _, k := range keys {
		want, ok := "", false
		if name, value, fixed := strings.Cut(k, "="); fixed {
			k, want, ok = name, value, true
		} else {
			want, ok = proxy.get(k)
		}
		if got, has := ep.get(k); !ok || !has || got != want {
			break
		}
		n++
	}
	return uint32(len(keys) - n)
}

// labelSet looks labels up as priorityLabels and subsets see them: the
// implicit keys first (cluster, region, zone, subzone, when known), then
// the object's own labels, then its parent's (an endpoint's Service or
// ExternalService).
type labelSet struct {
	cluster  string
	locality model.Locality
	own      map[string]string
	parent   map[string]string
}

func (s labelSet) get(k string) (string, bool) {
	implicit := ""
	switch k {
	case model.SubsetClusterLabel:
		implicit = s.cluster
	case regionLabel:
		implicit = s.locality.Region
	case zoneLabel:
		implicit = s.locality.Zone
	case subzoneLabel:
		implicit = s.locality.Subzone
	}
	if implicit != "" {
		return implicit, true
	}
	if v, ok := s.own[k]; ok {
		return v, true
	}
	v, ok := s.parent[k]
	return v, ok
}

// validFailover returns fp's config without the parts a proxy cannot use,
// reporting each on r: mappings without from.region, targets without a
// region or with a weight out of range (the weight is dropped), more
// targets or labels than the limits, empty label keys.
func validFailover(fp *model.FailoverPolicy, r *Resources) v1alpha1.FailoverConfig {
	obj := policyObject("FailoverPolicy", fp)
	in := fp.Spec.Config
	var out v1alpha1.FailoverConfig
	for i, m := range in.LocalityMappings {
		field := fieldf("spec.config.localityMappings[%d]", i)
		if m.From.Region == "" {
			r.report(obj, field+".from.region", "region is required; mapping ignored")
			continue
		}
		vm := v1alpha1.LocalityMapping{From: m.From}
		for j, t := range m.To {
			tf := fieldf("%s.to[%d]", field, j)
			switch {
			case t.Region == "":
				r.report(obj, tf+".region", "region is required; target ignored")
				continue
			case len(vm.To) == maxFailoverTargets:
				r.report(obj, tf, "more than %d targets; ignored", maxFailoverTargets)
				continue
			case t.Weight < 0 || t.Weight > maxFailoverWeight:
				r.report(obj, tf+".weight", "weight %d is outside 1..%d; treated as unset", t.Weight, maxFailoverWeight)
				t.Weight = 0
			}
			vm.To = append(vm.To, t)
		}
		if len(vm.To) == 0 {
			r.report(obj, field+".to", "no usable target; mapping ignored")
			continue
		}
		out.LocalityMappings = append(out.LocalityMappings, vm)
	}
	if pl := in.PriorityLabels; pl != nil {
		var keys []string
		for j, k := range pl.Labels {
			switch {
			case strings.TrimSpace(strings.SplitN(k, "=", 2)[0]) == "":
				r.report(obj, fieldf("spec.config.priorityLabels.labels[%d]", j), "empty label key; ignored")
			case len(keys) == maxPriorityLabels:
				r.report(obj, fieldf("spec.config.priorityLabels.labels[%d]", j), "more than %d labels; ignored", maxPriorityLabels)
			default:
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			out.PriorityLabels = &v1alpha1.PriorityLabels{Labels: keys}
		}
	}
	if len(in.LocalityMappings) == 0 && in.PriorityLabels == nil {
		r.report(obj, "spec.config", "sets neither localityMappings nor priorityLabels; only locality priority (as PreferClose) applies")
	}
	return out
}
