package translator

import (
	"net/netip"
	"sort"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/causeway-dev/causeway/model"
)

// overprovisioningFactor is Envoy's default, set explicitly so the config
// shows when a priority level starts spilling over (below ~72% healthy).
const overprovisioningFactor = 140

type hostPort struct {
	addr string
	port uint32
}

// groupKey separates endpoints by locality, by staleness (stale endpoints
// of a locality get their own, lower, priority level) and by label rank
// (priorityLabels of a FailoverPolicy; 0 otherwise).
type groupKey struct {
	locality model.Locality
	stale    bool
	rank     uint32
}

// localityGroup is what one endpoint locality contributes to an assignment:
// local addresses, and per remote cluster the number of ready endpoints that
// cluster's east-west gateways stand for.
type localityGroup struct {
	groupKey
	local  map[hostPort]bool
	remote map[string]uint32
}

// size is the number of real ready endpoints in the group.
func (g *localityGroup) size() uint32 {
	n := uint32(len(g.local))
	for _, c := range g.remote {
		n += c
	}
	return n
}

// endpointSet collects the ready endpoints of one destination port, grouped
// by locality. Build one with newEndpointSet, turn it into an assignment
// with assignment.
type endpointSet struct {
	groups   map[groupKey]*localityGroup
	gateways map[string][]model.GatewayAddress
}

func newEndpointSet() *endpointSet {
	return &endpointSet{groups: map[groupKey]*localityGroup{}, gateways: map[string][]model.GatewayAddress{}}
}

func (s *endpointSet) group(k groupKey) *localityGroup {
	g := s.groups[k]
	if g == nil {
		g = &localityGroup{groupKey: k, local: map[hostPort]bool{}, remote: map[string]uint32{}}
		s.groups[k] = g
	}
	return g
}

// addLocal adds an endpoint the proxy reaches directly. An address:port seen
// twice in a locality (two Services selecting one pod) counts once.
func (s *endpointSet) addLocal(l model.Locality, stale bool, addr string, port uint32) {
	s.addLocalRanked(groupKey{locality: l, stale: stale}, addr, port)
}

// addLocalRanked is addLocal into the group k (which carries a label rank).
func (s *endpointSet) addLocalRanked(k groupKey, addr string, port uint32) {
	s.group(k).local[hostPort{addr, port}] = true
}

// addRemote counts a ready endpoint of another cluster; it is reached through
// that cluster's east-west gateways (never empty here).
func (s *endpointSet) addRemote(l model.Locality, stale bool, cluster string, gateways []model.GatewayAddress) {
	s.addRemoteRanked(groupKey{locality: l, stale: stale}, cluster, gateways)
}

// addRemoteRanked is addRemote into the group k (which carries a label rank).
func (s *endpointSet) addRemoteRanked(k groupKey, cluster string, gateways []model.GatewayAddress) {
	s.group(k).remote[cluster]++
	s.gateways[cluster] = gateways
}

// assignment renders the set as the ClusterLoadAssignment named name.
// Localities are ordered by priority, then locality; priorities are
// compacted to 0..n-1. Locality weight is the number of real endpoints
// times the ranking's weight for the locality. Stale endpoints come after
// every fresh one (see groupPriority).
func (s *endpointSet) assignment(name string, prio ranking) *endpointv3.ClusterLoadAssignment {
	groups := make([]*localityGroup, 0, len(s.groups))
	raw := make([]uint32, 0, len(s.groups))
	for _, g := range s.groups {
		groups = append(groups, g)
		raw = append(raw, groupPriority(prio, g.groupKey))
	}
	compact := compactPriorities(raw)
	sort.Slice(groups, func(i, j int) bool {
		pi, pj := groupPriority(prio, groups[i].groupKey), groupPriority(prio, groups[j].groupKey)
		if pi != pj {
			return pi < pj
		}
		return groups[i].locality.String() < groups[j].locality.String()
	})
	cla := &endpointv3.ClusterLoadAssignment{
		ClusterName: name,
		Policy: &endpointv3.ClusterLoadAssignment_Policy{
			OverprovisioningFactor: wrapperspb.UInt32(overprovisioningFactor),
		},
	}
	for _, g := range groups {
		cla.Endpoints = append(cla.Endpoints, &endpointv3.LocalityLbEndpoints{
			Locality: &corev3.Locality{
				Region:  g.locality.Region,
				Zone:    g.locality.Zone,
				SubZone: g.locality.Subzone,
			},
			LbEndpoints:         s.lbEndpoints(g),
			LoadBalancingWeight: wrapperspb.UInt32(scaledWeight(g.size(), prio.weight(g.locality))),
			Priority:            compact[groupPriority(prio, g.groupKey)],
		})
	}
	return cla
}

// maxLocalityWeight caps one locality's weight so that a level's sum stays
// far below Envoy's uint32 limit even with FailoverPolicy weights (up to
// 1,000,000) applied to large localities.
const maxLocalityWeight = 1 << 24

func scaledWeight(n, factor uint32) uint32 {
	w := uint64(n) * uint64(max(factor, 1))
	return uint32(min(w, maxLocalityWeight))
}

type weightedHost struct {
	hostPort
	weight uint32
	mtls   bool
}

// lbEndpoints lists a group's hosts sorted by address and port. Each remote
// cluster's share is spread evenly over its gateways; all weights are scaled
// by the LCM of the gateway counts so that every endpoint, local or behind a
// gateway, keeps an equal share with integer weights. With one remote
// cluster alone in a locality, each gateway's weight is simply the number of
// endpoints it stands for.
func (s *endpointSet) lbEndpoints(g *localityGroup) []*endpointv3.LbEndpoint {
	scale := uint32(1)
	for c := range g.remote {
		scale = lcm(scale, uint32(len(s.gateways[c])))
	}
	var hosts []weightedHost
	for hp := range g.local {
		hosts = append(hosts, weightedHost{hostPort: hp, weight: scale})
	}
	for c, n := range g.remote {
		gws := s.gateways[c]
		for _, gw := range gws {
			hosts = append(hosts, weightedHost{
				hostPort: hostPort{gw.Address, gw.Port},
				weight:   n * scale / uint32(len(gws)),
				mtls:     true,
			})
		}
	}
	sort.Slice(hosts, func(i, j int) bool {
		if c := compareAddr(hosts[i].addr, hosts[j].addr); c != 0 {
			return c < 0
		}
		return hosts[i].port < hosts[j].port
	})
	out := make([]*endpointv3.LbEndpoint, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, lbEndpoint(h))
	}
	return out
}

func lbEndpoint(h weightedHost) *endpointv3.LbEndpoint {
	ep := &endpointv3.LbEndpoint{
		HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
			Address: tcpAddress(h.addr, h.port),
		}},
		LoadBalancingWeight: wrapperspb.UInt32(h.weight),
	}
	if h.mtls {
		// Selects the cluster's mTLS transport_socket_matches entry.
		ep.Metadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
			transportSocketMatchFilter: mtlsMatch(),
		}}
	}
	return ep
}

// compareAddr orders IP addresses numerically (127.0.1.9 before
// 127.0.1.10) and anything else as strings, after IPs.
func compareAddr(a, b string) int {
	ia, errA := netip.ParseAddr(a)
	ib, errB := netip.ParseAddr(b)
	switch {
	case errA == nil && errB == nil:
		return ia.Compare(ib)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b uint32) uint32 {
	if a == 0 || b == 0 {
		return a + b
	}
	return a / gcd(a, b) * b
}
