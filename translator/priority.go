package translator

import (
	"sort"

	"github.com/causeway-dev/causeway/model"
)

// Raw locality priorities relative to the client proxy, closest first.
const (
	prioritySameSubzone uint32 = iota // same region, zone and subzone
	prioritySameZone                  // same region and zone
	prioritySameRegion                // same region
	priorityOtherRegion               // anywhere else
)

// localityPriority ranks an endpoint locality relative to the proxy's
// locality. Levels may be empty; compactPriorities removes the gaps Envoy
// would reject.
func localityPriority(proxy, ep model.Locality) uint32 {
	p, _ := closeness(proxy, ep)
	return p
}

// closeness is localityPriority with the rule that decided it.
func closeness(proxy, ep model.Locality) (uint32, levelRule) {
	switch {
	case proxy.Region != ep.Region:
		return priorityOtherRegion, levelRule{kind: ruleOtherRegion}
	case proxy.Zone != ep.Zone:
		return prioritySameRegion, levelRule{kind: ruleSameRegion}
	case proxy.Subzone != ep.Subzone:
		return prioritySameZone, levelRule{kind: ruleSameZone}
	}
	return prioritySameSubzone, levelRule{kind: ruleSameSubzone}
}

// ranking orders the locality groups of one assignment: levelOf gives the
// raw priority of a locality (compacted later) and the rule that set it, in
// one place, so that explanations (explain.go) never disagree with the
// assignment; weight multiplies the locality's load_balancing_weight (1
// when nothing asks for more).
type ranking interface {
	levelOf(model.Locality) (uint32, levelRule)
	weight(model.Locality) uint32
}

// levelRuleKind names the rule that gave a locality its level.
type levelRuleKind uint8

const (
	ruleFlat        levelRuleKind = iota // trafficDistribution unset: one level
	ruleSameSubzone                      // PreferClose levels
	ruleSameZone
	ruleSameRegion
	ruleOtherRegion
	ruleMappedTarget   // a FailoverPolicy locality mapping's `to` entry, its own level
	ruleMappedWeighted // a weighted mapping: every `to` entry shares one level
	ruleUnmapped       // a mapping applies, but lists no `to` entry for the locality
)

// levelRule is a levelRuleKind and, for mapping rules, the index of the
// `to` entry that matched.
type levelRule struct {
	kind   levelRuleKind
	target int
}

// localityRanking is a VirtualDestination's trafficDistribution without
// policies: flat (every locality at priority 0) or PreferClose (closest
// localities first); every locality keeps its natural weight.
type localityRanking struct {
	preferClose bool
	proxy       model.Locality
}

func (r localityRanking) levelOf(l model.Locality) (uint32, levelRule) {
	if !r.preferClose {
		return 0, levelRule{kind: ruleFlat}
	}
	return closeness(r.proxy, l)
}

// level is levelOf without the rule.
func (r localityRanking) level(l model.Locality) uint32 {
	p, _ := r.levelOf(l)
	return p
}

func (localityRanking) weight(model.Locality) uint32 { return 1 }

// priorityFor returns the ranking for a VirtualDestination's
// trafficDistribution: unset spreads over every endpoint (all priority 0),
// PreferClose prefers the localities closest to the proxy.
func priorityFor(trafficDistribution string, proxy model.Locality) localityRanking {
	return localityRanking{preferClose: trafficDistribution == model.TrafficDistributionPreferClose, proxy: proxy}
}

// flatPriority puts every locality at priority 0.
var flatPriority = localityRanking{}

// A group's raw priority packs, from most to least significant: staleness,
// the label rank a FailoverPolicy's priorityLabels gave it, and the
// ranking's locality level. Stale endpoints come below every fresh priority:
// their cluster is out of Causeway's sight, so they may be gone, but they are
// kept (as a last resort) because nothing else may be left. Among themselves
// they keep the same order, so with PreferClose the closest stale endpoints
// still come first. Locality levels stay below maxLocalityLevels and label
// ranks below maxLabelRanks (see validFailover), so the fields never overlap.
const (
	maxLocalityLevels = 256
	maxLabelRanks     = 32
	rankStride        = maxLocalityLevels
	staleStride       = rankStride * maxLabelRanks
)

// groupPriority is the raw priority of a group of endpoints.
func groupPriority(rk ranking, k groupKey) uint32 {
	p, _ := groupPriorityRule(rk, k)
	return p
}

// groupPriorityRule is groupPriority and the locality rule that set the
// group's level (the label rank and staleness are in k itself).
func groupPriorityRule(rk ranking, k groupKey) (uint32, levelRule) {
	level, rule := rk.levelOf(k.locality)
	p := k.rank*rankStride + level
	if k.stale {
		p += staleStride
	}
	return p, rule
}

// compactPriorities maps the raw priorities in use onto 0..n-1, keeping
// their order: Envoy requires contiguous priorities from 0.
func compactPriorities(raw []uint32) map[uint32]uint32 {
	distinct := map[uint32]bool{}
	for _, p := range raw {
		distinct[p] = true
	}
	levels := make([]uint32, 0, len(distinct))
	for p := range distinct {
		levels = append(levels, p)
	}
	sort.Slice(levels, func(i, j int) bool { return levels[i] < levels[j] })
	out := make(map[uint32]uint32, len(levels))
	for i, p := range levels {
		out[p] = uint32(i)
	}
	return out
}
