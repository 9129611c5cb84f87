package translator

import (
	"maps"
	"slices"
	"sort"
	"sync"
	"weak"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/causeway-dev/causeway/model"
)

// The endpoint fast path. A change that touches only Service endpoints
// leaves everything a translation derives from the rest of the world
// unchanged: workspace scoping, host:port claims, policies, which
// destinations select which Services. fastIndex keeps that, computed once
// on the first snapshot of a run of endpoints-only changes (the root), and
// LoadAssignments recomputes from it just the load assignments fed by the
// changed Services, reading their endpoints from the new snapshot.

// LoadAssignments returns, for proxy p, exactly the load assignments (the
// same messages Translate would build) of every cluster whose endpoints
// come from any of services: VirtualDestination destinations and their
// subsets, federated hostnames and Service backendRef clusters. Sorted by
// cluster name. It is the endpoint fast path: after a change that
// EndpointsOnlyChange accepts, these are the only resources that differ.
// Diagnostics are not computed.
//
// Its cost is that of the assignments it builds, once an index of the
// world's structure exists for p's class: built on first use for a
// snapshot, and carried over to the new snapshot by EndpointsOnlyChange.
func LoadAssignments(w *model.Snapshot, p model.Proxy, services map[model.ServiceKey]bool) []*endpointv3.ClusterLoadAssignment {
	if len(services) == 0 || w == nil {
		return nil
	}
	ix := fastIndexFor(w, p)
	if ix.servesNothing {
		return nil
	}
	r := &Resources{only: services}
	vdSet := map[int]bool{}
	var fed []*federatedHost
	type backend struct {
		key  model.ServiceKey
		port uint32
	}
	var backends []backend
	for k := range services {
		for _, i := range ix.vdsByService[k] {
			vdSet[i] = true
		}
		fed = append(fed, ix.fedByService[k]...)
		for _, port := range ix.backendPorts[k] {
			backends = append(backends, backend{k, port})
		}
	}
	// Every Service selected, read from w: the root's Services carry old
	// endpoints. The root and w have the same Services (EndpointsOnlyChange).
	current := func(list []*model.Service) []*model.Service {
		out := make([]*model.Service, 0, len(list))
		for _, s := range list {
			if cur := w.Service(s.Key()); cur != nil {
				out = append(out, cur)
			}
		}
		return out
	}
	vds := ix.world.VirtualDestinations()
	for _, i := range slices.Sorted(maps.Keys(vdSet)) {
		vd := &vds[i]
		selected := current(ix.claims.selectedServices(ix.world, vd))
		switch p.Role {
		case model.RoleGateway, model.RoleClient:
			outboundVD(ix.world, p, "", ix.claims, ix.policies, vd, selected, r)
		case model.RoleEastWest:
			eastWestVD(ix.world, p, "", ix.claims, vd, localServices(selected, p.Cluster), nil, r)
		}
	}
	for _, fh := range fed {
		cur := *fh
		if cur.svc = w.Service(fh.svc.Key()); cur.svc == nil {
			continue
		}
		name := cur.key.ClusterName()
		if p.Role == model.RoleEastWest {
			name = cur.key.InboundName()
		}
		r.Endpoints = append(r.Endpoints, federatedEndpoints(ix.world, p, &cur, routesOutbound(p)).assignment(name, flatPriority))
	}
	for _, b := range backends {
		if _, cla := serviceCluster(ix.world, p, w.Service(b.key), b.port); cla != nil {
			r.Endpoints = append(r.Endpoints, cla)
		}
	}
	sort.Slice(r.Endpoints, func(i, j int) bool { return r.Endpoints[i].GetClusterName() < r.Endpoints[j].GetClusterName() })
	return slices.CompactFunc(r.Endpoints, func(a, b *endpointv3.ClusterLoadAssignment) bool {
		return a.GetClusterName() == b.GetClusterName()
	})
}

// EndpointsOnlyChange reports whether new differs from old only in the
// endpoints of existing Services, and which Services those are. When it
// reports true, Translate(new) differs from Translate(old) at most in the
// LoadAssignments(new, p, changed) (and in diagnostics), and the fast
// path's index of old serves new too.
func EndpointsOnlyChange(old, new *model.Snapshot) (map[model.ServiceKey]bool, bool) {
	changed, ok := model.EndpointsOnlyDiff(old, new)
	if ok && old != new {
		fast.link(old, new)
	}
	return changed, ok
}

// fastIndex is what LoadAssignments needs of a world's structure for one
// proxy class. Translate leaves one behind for every class it translates,
// from what it computed anyway (the structure part once per world, shared
// by every class), so the first endpoint change after a structural one
// costs no more than the later ones; LoadAssignments builds one
// (buildFastIndex) only for a world Translate has not seen for that class.
type fastIndex struct {
	*fastStructure
	policies     policyIndex
	fedByService map[model.ServiceKey][]*federatedHost
	// backendPorts: the ports of the Service backendRef clusters built
	// for each Service (gateway and client proxies).
	backendPorts map[model.ServiceKey][]uint32
	// servesNothing: a client proxy that gets no destinations (see
	// clientWorkspace), hence no load assignments.
	servesNothing bool
}

// fastStructure is the part of a fastIndex every proxy class shares. It
// holds its world without endpoints (model.Snapshot.WithoutEndpoints):
// the index outlives that world's endpoints, and keeping them alive would
// cost a second copy of the world.
type fastStructure struct {
	world  *model.Snapshot // a snapshot of the run, scoped to workspaces, without endpoints
	claims *hostPortClaims // on world
	// vdsByService: indexes (in world.VirtualDestinations()) of the
	// VirtualDestinations selecting each Service.
	vdsByService map[model.ServiceKey][]int
}

// buildFastIndex indexes world for p from scratch, computing what
// Translate would (diagnostics discarded).
func buildFastIndex(world *model.Snapshot, p model.Proxy) *fastIndex {
	w, claims, _ := scopeWorld(world.WithoutEndpoints())
	scratch := &Resources{}
	var policies policyIndex
	var gateway *gatewayBuilder
	switch p.Role {
	case model.RoleGateway:
		policies = indexPolicies(w, p.Locality, scratch)
		gateway = buildGateway(w, p, claims, scratch)
	case model.RoleClient:
		policies, gateway = buildClient(w, p, "", claims, scratch)
	}
	return newFastIndex(newFastStructure(w, claims), p, policies, gateway)
}

// newFastStructure indexes scoped world w (without endpoints) and its claims.
func newFastStructure(w *model.Snapshot, claims *hostPortClaims) *fastStructure {
	st := &fastStructure{world: w, claims: claims, vdsByService: make(map[model.ServiceKey][]int, len(w.Services()))}
	vds := w.VirtualDestinations()
	for i := range vds {
		for _, svc := range claims.selectedServices(w, &vds[i]) {
			st.vdsByService[svc.Key()] = append(st.vdsByService[svc.Key()], i)
		}
	}
	return st
}

// newFastIndex completes st for p with what a translation computed: the
// gateway or client proxy's policies (keyed by VirtualDestinations, which
// st's world shares with the translated one) and its route builder (nil
// for an east-west proxy, and for a client proxy that serves nothing).
func newFastIndex(st *fastStructure, p model.Proxy, policies policyIndex, gateway *gatewayBuilder) *fastIndex {
	ix := &fastIndex{
		fastStructure: st, policies: policies, servesNothing: p.Role == model.RoleClient && gateway == nil,
		fedByService: map[model.ServiceKey][]*federatedHost{},
		backendPorts: map[model.ServiceKey][]uint32{},
	}
	if gateway != nil {
		for name := range gateway.usedServiceClusters {
			if bc := gateway.serviceClusters[name]; bc != nil && bc.endpoints != nil && bc.service != nil {
				k := bc.service.Key()
				ix.backendPorts[k] = append(ix.backendPorts[k], bc.port)
			}
		}
	}
	for _, fh := range st.claims.federated {
		if p.Role == model.RoleEastWest && fh.svc.Cluster != p.Cluster {
			continue
		}
		ix.fedByService[fh.svc.Key()] = append(ix.fedByService[fh.svc.Key()], fh)
	}
	return ix
}

// structureOf is the fastStructure of a translation's scoped world w and
// its claims, shared by every class translated from w.
func (c *fastCache) structureOf(w *model.Snapshot, claims *hostPortClaims) *fastStructure {
	key := weak.Make(w)
	c.mu.Lock()
	st := c.structures[key]
	c.mu.Unlock()
	if st != nil {
		return st
	}
	// Built outside the lock; a concurrent caller may build it too.
	s := w.WithoutEndpoints()
	st = newFastStructure(s, claims.detached(s))
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.structures[key]; !ok {
		c.structures[key] = st
		c.structureOrder = append(c.structureOrder, key)
		if len(c.structureOrder) > maxIndexedRoots {
			delete(c.structures, c.structureOrder[0])
			c.structureOrder = slices.Delete(c.structureOrder, 0, 1)
		}
	}
	return st
}

// detached is c moved onto s, the same world without endpoints: every
// Service it refers to (selections, federated hostnames) is s's, so that
// it keeps none of the original world's endpoints alive. Everything else
// (VirtualDestinations, ExternalServices) s shares with that world.
func (c *hostPortClaims) detached(s *model.Snapshot) *hostPortClaims {
	d := *c
	d.selected = make(map[*model.VirtualDestination][]*model.Service, len(c.selected))
	for vd, services := range c.selected {
		moved := make([]*model.Service, len(services))
		for i, svc := range services {
			moved[i] = s.Service(svc.Key())
		}
		d.selected[vd] = moved
	}
	if len(c.federated) == 0 {
		return &d
	}
	hosts := map[*federatedHost]*federatedHost{}
	moveHost := func(fh *federatedHost) *federatedHost {
		if m, ok := hosts[fh]; ok {
			return m
		}
		m := *fh
		m.svc = s.Service(fh.svc.Key())
		hosts[fh] = &m
		return &m
	}
	d.federated = make([]*federatedHost, len(c.federated))
	for i, fh := range c.federated {
		d.federated[i] = moveHost(fh)
	}
	// Federated claims are keyed by, and point to, their hostnames.
	claims := map[*claim]*claim{}
	move := func(cl *claim) *claim {
		if cl == nil || cl.federated == nil {
			return cl
		}
		if m, ok := claims[cl]; ok {
			return m
		}
		m := *cl
		m.federated = moveHost(cl.federated)
		m.key.obj = m.federated
		claims[cl] = &m
		return &m
	}
	d.lost = make(map[claimKey]*claim, len(c.lost))
	for k, cl := range c.lost {
		if fh, ok := k.obj.(*federatedHost); ok {
			k.obj = moveHost(fh)
		}
		d.lost[k] = move(cl)
	}
	d.winners = make(map[hostPortKey][]*claim, len(c.winners))
	for hp, list := range c.winners {
		moved := make([]*claim, len(list))
		for i, cl := range list {
			moved[i] = move(cl)
		}
		d.winners[hp] = moved
	}
	return &d
}

// fastCache maps snapshots to the root of their run of endpoints-only
// changes, and roots to their indexes per proxy class. Both are small and
// bounded: only the newest snapshots matter. Snapshots are held weakly
// everywhere, and indexes hold their worlds without endpoints, so the
// cache never keeps an old world's endpoints alive; a root's index
// outlives the root itself, serving every later snapshot of its run.
type fastCache struct {
	mu      sync.Mutex
	rootOf  map[weak.Pointer[model.Snapshot]]weak.Pointer[model.Snapshot]
	order   []weak.Pointer[model.Snapshot] // insertion order of rootOf, for eviction
	indexes map[weak.Pointer[model.Snapshot]]map[string]*fastIndex
	roots   []weak.Pointer[model.Snapshot] // insertion order of indexes
	// structures are the fastStructures of the newest translated worlds.
	structures     map[weak.Pointer[model.Snapshot]]*fastStructure
	structureOrder []weak.Pointer[model.Snapshot]
}

const (
	maxLinkedSnapshots = 32
	maxIndexedRoots    = 2
)

var fast = &fastCache{
	rootOf:     map[weak.Pointer[model.Snapshot]]weak.Pointer[model.Snapshot]{},
	indexes:    map[weak.Pointer[model.Snapshot]]map[string]*fastIndex{},
	structures: map[weak.Pointer[model.Snapshot]]*fastStructure{},
}

// root is the root of w's run of endpoints-only changes (w itself when
// unknown). A weak pointer keeps its identity after its snapshot is
// collected. c.mu must be held.
func (c *fastCache) root(w *model.Snapshot) weak.Pointer[model.Snapshot] {
	key := weak.Make(w)
	if r, ok := c.rootOf[key]; ok {
		return r
	}
	return key
}

func (c *fastCache) link(old, new *model.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	root := c.root(old)
	key := weak.Make(new)
	if _, ok := c.rootOf[key]; ok {
		return
	}
	c.rootOf[key] = root
	c.order = append(c.order, key)
	if len(c.order) > maxLinkedSnapshots {
		delete(c.rootOf, c.order[0])
		c.order = slices.Delete(c.order, 0, 1)
	}
}

func fastIndexFor(w *model.Snapshot, p model.Proxy) *fastIndex {
	c := fast
	c.mu.Lock()
	root := c.root(w)
	class := p.ClassKey()
	if ix := c.indexes[root][class]; ix != nil {
		c.mu.Unlock()
		return ix
	}
	c.mu.Unlock()
	// Built outside the lock; a concurrent caller may build it too. Any
	// snapshot of the run has the root's structure.
	ix := buildFastIndex(w, p)
	c.remember(root, class, ix)
	return ix
}

// rememberIndex keeps ix, built by a translation of w for p, as the index
// of w's run of endpoints-only changes.
func rememberIndex(w *model.Snapshot, p model.Proxy, ix *fastIndex) {
	c := fast
	c.mu.Lock()
	root := c.root(w)
	c.mu.Unlock()
	c.remember(root, p.ClassKey(), ix)
}

// remember stores ix as root's index for class, evicting the oldest root
// beyond maxIndexedRoots.
func (c *fastCache) remember(root weak.Pointer[model.Snapshot], class string, ix *fastIndex) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.indexes[root] == nil {
		c.indexes[root] = map[string]*fastIndex{}
		c.roots = append(c.roots, root)
		if len(c.roots) > maxIndexedRoots {
			delete(c.indexes, c.roots[0])
			c.roots = slices.Delete(c.roots, 0, 1)
		}
	}
	c.indexes[root][class] = ix
}
