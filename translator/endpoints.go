package translator

import (
	"cmp"
	"net/netip"
	"slices"
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
	// local may hold an address:port more than once (two Services selecting
	// one pod) until dedupe.
	local   []hostPort
	remote  []remoteCount
	deduped bool
}

type remoteCount struct {
	cluster string
	n       uint32
}

// dedupe removes repeated local addresses (an address:port counts once).
func (g *localityGroup) dedupe() {
	if g.deduped {
		return
	}
	g.deduped = true
	if len(g.local) < 2 {
		return
	}
	slices.SortFunc(g.local, func(a, b hostPort) int {
		if c := cmp.Compare(a.addr, b.addr); c != 0 {
			return c
		}
		return cmp.Compare(a.port, b.port)
	})
	g.local = slices.Compact(g.local)
}

// size is the number of real ready endpoints in the group.
func (g *localityGroup) size() uint32 {
	g.dedupe()
	n := uint32(len(g.local))
	for _, c := range g.remote {
		n += c.n
	}
	return n
}

// endpointSet collects the ready endpoints of one destination port, grouped
// by locality. Build one with newEndpointSet, turn it into an assignment
// with assignment.
type endpointSet struct {
	groups   []*localityGroup
	byKey    map[groupKey]*localityGroup // set once there are many groups
	gateways []clusterGateways
	// localHint (when set) is the capacity of a new group's local
	// addresses: the endpoints a group is expected to hold.
	localHint int
}

type clusterGateways struct {
	cluster  string
	gateways []model.GatewayAddress
}

func newEndpointSet() *endpointSet { return &endpointSet{} }

// manyGroups is when group lookups switch from a scan to a map.
const manyGroups = 8

func (s *endpointSet) group(k groupKey) *localityGroup {
	if s.byKey != nil {
		if g := s.byKey[k]; g != nil {
			return g
		}
	} else {
		for _, g := range s.groups {
			if g.groupKey == k {
				return g
			}
		}
	}
	g := &localityGroup{groupKey: k}
	if s.localHint > 0 {
		g.local = make([]hostPort, 0, s.localHint)
	}
	s.groups = append(s.groups, g)
	if s.byKey == nil && len(s.groups) > manyGroups {
		s.byKey = make(map[groupKey]*localityGroup, len(s.groups))
		for _, o := range s.groups {
			s.byKey[o.groupKey] = o
		}
	} else if s.byKey != nil {
		s.byKey[k] = g
	}
	return g
}

// gatewaysOf returns the east-west gateways recorded for cluster.
func (s *endpointSet) gatewaysOf(cluster string) []model.GatewayAddress {
	for _, cg := range s.gateways {
		if cg.cluster == cluster {
			return cg.gateways
		}
	}
	return nil
}

// addLocal adds an endpoint the proxy reaches directly. An address:port seen
// twice in a locality (two Services selecting one pod) counts once.
func (s *endpointSet) addLocal(l model.Locality, stale bool, addr string, port uint32) {
	s.addLocalRanked(groupKey{locality: l, stale: stale}, addr, port)
}

// addLocalRanked is addLocal into the group k (which carries a label rank).
func (s *endpointSet) addLocalRanked(k groupKey, addr string, port uint32) {
	g := s.group(k)
	g.local = append(g.local, hostPort{addr, port})
	g.deduped = false
}

// addRemote counts a ready endpoint of another cluster; it is reached through
// that cluster's east-west gateways (never empty here).
func (s *endpointSet) addRemote(l model.Locality, stale bool, cluster string, gateways []model.GatewayAddress) {
	s.addRemoteRanked(groupKey{locality: l, stale: stale}, cluster, gateways)
}

// addRemoteRanked is addRemote into the group k (which carries a label rank).
func (s *endpointSet) addRemoteRanked(k groupKey, cluster string, gateways []model.GatewayAddress) {
	g := s.group(k)
	found := false
	for i := range g.remote {
		if g.remote[i].cluster == cluster {
			g.remote[i].n++
			found = true
			break
		}
	}
	if !found {
		g.remote = append(g.remote, remoteCount{cluster: cluster, n: 1})
	}
	for i := range s.gateways {
		if s.gateways[i].cluster == cluster {
			s.gateways[i].gateways = gateways
			return
		}
	}
	s.gateways = append(s.gateways, clusterGateways{cluster: cluster, gateways: gateways})
}

// rankedGroup is a locality group with its compacted priority, as the
// assignment places it.
type rankedGroup struct {
	g    *localityGroup
	prio uint32 // raw until ranked returns, then compacted
	rule levelRule
	loc  string
}

// ranked orders the set's groups as the assignment lists them: by priority,
// then locality, priorities compacted to 0..n-1. Each group keeps the
// locality rule that set its level (for explanations).
func (s *endpointSet) ranked(prio ranking) []rankedGroup {
	if len(s.groups) == 1 {
		// One group is level 0 whatever its raw priority (the common case
		// of a Service in one locality: no maps, no sort).
		_, rule := groupPriorityRule(prio, s.groups[0].groupKey)
		return []rankedGroup{{g: s.groups[0], rule: rule}}
	}
	groups := make([]rankedGroup, 0, len(s.groups))
	raw := make([]uint32, 0, len(s.groups))
	for _, g := range s.groups {
		p, rule := groupPriorityRule(prio, g.groupKey)
		groups = append(groups, rankedGroup{g: g, prio: p, rule: rule, loc: g.locality.String()})
		raw = append(raw, p)
	}
	compact := compactPriorities(raw)
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].prio != groups[j].prio {
			return groups[i].prio < groups[j].prio
		}
		return groups[i].loc < groups[j].loc
	})
	for i := range groups {
		groups[i].prio = compact[groups[i].prio]
	}
	return groups
}

// assignment renders the set as the ClusterLoadAssignment named name.
// Localities are ordered by priority, then locality; priorities are
// compacted to 0..n-1. Locality weight is the number of real endpoints
// times the ranking's weight for the locality. Stale endpoints come after
// every fresh one (see groupPriority).
func (s *endpointSet) assignment(name string, prio ranking) *endpointv3.ClusterLoadAssignment {
	groups := s.ranked(prio)
	cla := &endpointv3.ClusterLoadAssignment{
		ClusterName: name,
		Policy:      assignmentPolicy,
	}
	n := len(groups)
	lles := make([]endpointv3.LocalityLbEndpoints, n)
	locs := make([]corev3.Locality, n)
	weights := make([]wrapperspb.UInt32Value, n)
	cla.Endpoints = make([]*endpointv3.LocalityLbEndpoints, n)
	for i, rg := range groups {
		g := rg.g
		locs[i] = corev3.Locality{Region: g.locality.Region, Zone: g.locality.Zone, SubZone: g.locality.Subzone}
		weights[i].Value = scaledWeight(g.size(), prio.weight(g.locality))
		lle := &lles[i]
		lle.Locality = &locs[i]
		lle.LbEndpoints = s.lbEndpoints(g)
		lle.LoadBalancingWeight = &weights[i]
		lle.Priority = rg.prio
		cla.Endpoints[i] = lle
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

// lbEndpointSlab holds the messages of one LbEndpoint.
type lbEndpointSlab struct {
	lb     endpointv3.LbEndpoint
	id     endpointv3.LbEndpoint_Endpoint
	ep     endpointv3.Endpoint
	addr   corev3.Address
	sock   corev3.Address_SocketAddress
	sa     corev3.SocketAddress
	port   corev3.SocketAddress_PortValue
	weight wrapperspb.UInt32Value
}

type weightedHost struct {
	hostPort
	weight uint32
	mtls   bool
	ip     netip.Addr // valid when addr is an IP address
}

func newWeightedHost(hp hostPort, weight uint32, mtls bool) weightedHost {
	h := weightedHost{hostPort: hp, weight: weight, mtls: mtls}
	if ip, err := netip.ParseAddr(hp.addr); err == nil {
		h.ip = ip
	}
	return h
}

// compareHosts orders hosts as compareAddr orders their addresses, then by port.
func compareHosts(a, b *weightedHost) int {
	switch av, bv := a.ip.IsValid(), b.ip.IsValid(); {
	case av && bv:
		if c := a.ip.Compare(b.ip); c != 0 {
			return c
		}
	case av:
		return -1
	case bv:
		return 1
	case a.addr < b.addr:
		return -1
	case a.addr > b.addr:
		return 1
	}
	return cmp.Compare(a.port, b.port)
}

// lbEndpoints lists a group's hosts sorted by address and port. Each remote
// cluster's share is spread evenly over its gateways; all weights are scaled
// by the LCM of the gateway counts so that every endpoint, local or behind a
// gateway, keeps an equal share with integer weights. With one remote
// cluster alone in a locality, each gateway's weight is simply the number of
// endpoints it stands for.
func (s *endpointSet) lbEndpoints(g *localityGroup) []*endpointv3.LbEndpoint {
	g.dedupe()
	scale := uint32(1)
	n := len(g.local)
	for _, rc := range g.remote {
		gws := s.gatewaysOf(rc.cluster)
		scale = lcm(scale, uint32(len(gws)))
		n += len(gws)
	}
	hosts := make([]weightedHost, 0, n)
	for _, hp := range g.local {
		hosts = append(hosts, newWeightedHost(hp, scale, false))
	}
	for _, rc := range g.remote {
		gws := s.gatewaysOf(rc.cluster)
		for _, gw := range gws {
			hosts = append(hosts, newWeightedHost(hostPort{gw.Address, gw.Port}, rc.n*scale/uint32(len(gws)), true))
		}
	}
	slices.SortFunc(hosts, func(a, b weightedHost) int { return compareHosts(&a, &b) })
	// One allocation for every message of the group's endpoints: they live
	// and die together with the assignment.
	n = len(hosts)
	out := make([]*endpointv3.LbEndpoint, n)
	slab := make([]lbEndpointSlab, n)
	for i := range hosts {
		h, m := &hosts[i], &slab[i]
		m.port.PortValue = h.port
		m.sa.Protocol, m.sa.Address, m.sa.PortSpecifier = corev3.SocketAddress_TCP, h.addr, &m.port
		m.sock.SocketAddress = &m.sa
		m.addr.Address = &m.sock
		m.ep.Address = &m.addr
		m.id.Endpoint = &m.ep
		m.weight.Value = h.weight
		lb := &m.lb
		lb.HostIdentifier = &m.id
		lb.LoadBalancingWeight = &m.weight
		if h.mtls {
			// Selects the cluster's mTLS transport_socket_matches entry.
			lb.Metadata = mtlsEndpointMetadata
		}
		out[i] = lb
	}
	return out
}

// mtlsEndpointMetadata is the metadata of every endpoint reached over
// mTLS, shared by all of them (immutable, like edsShared).
var mtlsEndpointMetadata = &corev3.Metadata{FilterMetadata: map[string]*structpb.Struct{
	transportSocketMatchFilter: mtlsMatch(),
}}

// assignmentPolicy is every assignment's policy, shared (immutable).
var assignmentPolicy = &endpointv3.ClusterLoadAssignment_Policy{
	OverprovisioningFactor: wrapperspb.UInt32(overprovisioningFactor),
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
