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
	switch {
	case proxy.Region != ep.Region:
		return priorityOtherRegion
	case proxy.Zone != ep.Zone:
		return prioritySameRegion
	case proxy.Subzone != ep.Subzone:
		return prioritySameZone
	}
	return prioritySameSubzone
}

// ranking orders the locality groups of one assignment: level is the raw
// priority of a locality (compacted later), weight multiplies the locality's
// load_balancing_weight (1 when nothing asks for more).
type ranking interface {
	level(model.Locality) uint32
	weight(model.Locality) uint32
}

// priorityFunc gives the raw priority of an endpoint locality; every
// locality keeps its natural weight.
type priorityFunc func(model.Locality) uint32

func (f priorityFunc) level(l model.Locality) uint32 { return f(l) }

func (priorityFunc) weight(model.Locality) uint32 { return 1 }

// priorityFor returns the priority function for a VirtualDestination's
// trafficDistribution: unset spreads over every endpoint (all priority 0),
// PreferClose prefers the localities closest to the proxy.
func priorityFor(trafficDistribution string, proxy model.Locality) priorityFunc {
	if trafficDistribution == model.TrafficDistributionPreferClose {
		return func(l model.Locality) uint32 { return localityPriority(proxy, l) }
	}
	return flatPriority
}

// flatPriority puts every locality at priority 0.
var flatPriority priorityFunc = func(model.Locality) uint32 { return 0 }

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
	p := k.rank*rankStride + rk.level(k.locality)
	if k.stale {
		p += staleStride
	}
	return p
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
