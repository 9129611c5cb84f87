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
		case model.RoleGateway:
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
		r.Endpoints = append(r.Endpoints, federatedEndpoints(ix.world, p, &cur, p.Role == model.RoleGateway).assignment(name, flatPriority))
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
// proxy class, computed on the root snapshot.
type fastIndex struct {
	world    *model.Snapshot // the root, scoped to workspaces
	claims   *hostPortClaims
	policies policyIndex
	// vdsByService: indexes (in world.VirtualDestinations()) of the
	// VirtualDestinations selecting each Service.
	vdsByService map[model.ServiceKey][]int
	fedByService map[model.ServiceKey][]*federatedHost
	// backendPorts: the ports of the Service backendRef clusters built
	// for each Service (gateway proxies).
	backendPorts map[model.ServiceKey][]uint32
}

func buildFastIndex(root *model.Snapshot, p model.Proxy) *fastIndex {
	w, claims, _ := scopeWorld(root)
	ix := &fastIndex{
		world: w, claims: claims,
		vdsByService: map[model.ServiceKey][]int{},
		fedByService: map[model.ServiceKey][]*federatedHost{},
		backendPorts: map[model.ServiceKey][]uint32{},
	}
	scratch := &Resources{}
	if p.Role == model.RoleGateway {
		ix.policies = indexPolicies(w, p.Locality, scratch)
	}
	vds := w.VirtualDestinations()
	for i := range vds {
		for _, svc := range claims.selectedServices(w, &vds[i]) {
			ix.vdsByService[svc.Key()] = append(ix.vdsByService[svc.Key()], i)
		}
	}
	for _, fh := range claims.federated {
		if p.Role == model.RoleEastWest && fh.svc.Cluster != p.Cluster {
			continue
		}
		ix.fedByService[fh.svc.Key()] = append(ix.fedByService[fh.svc.Key()], fh)
	}
	if p.Role == model.RoleGateway {
		b := buildGateway(w, p, claims, scratch)
		for name := range b.usedServiceClusters {
			if bc := b.serviceClusters[name]; bc != nil && bc.endpoints != nil && bc.service != nil {
				k := bc.service.Key()
				ix.backendPorts[k] = append(ix.backendPorts[k], bc.port)
			}
		}
	}
	return ix
}

// fastCache maps snapshots to the root of their run of endpoints-only
// changes, and roots to their indexes per proxy class. Both are small and
// bounded: only the newest snapshots matter.
type fastCache struct {
	mu sync.Mutex
	// rootOf holds neither key nor root alive: a collected root just means
	// the next LoadAssignments indexes its snapshot afresh.
	rootOf  map[weak.Pointer[model.Snapshot]]weak.Pointer[model.Snapshot]
	order   []weak.Pointer[model.Snapshot] // insertion order of rootOf, for eviction
	indexes map[*model.Snapshot]map[string]*fastIndex
	roots   []*model.Snapshot // insertion order of indexes
}

const (
	maxLinkedSnapshots = 32
	maxIndexedRoots    = 2
)

var fast = &fastCache{
	rootOf:  map[weak.Pointer[model.Snapshot]]weak.Pointer[model.Snapshot]{},
	indexes: map[*model.Snapshot]map[string]*fastIndex{},
}

// root is the root of w's run of endpoints-only changes (w itself when
// unknown). c.mu must be held.
func (c *fastCache) root(w *model.Snapshot) *model.Snapshot {
	if r, ok := c.rootOf[weak.Make(w)]; ok {
		if root := r.Value(); root != nil {
			return root
		}
	}
	return w
}

func (c *fastCache) link(old, new *model.Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	root := c.root(old)
	key := weak.Make(new)
	if _, ok := c.rootOf[key]; ok {
		return
	}
	c.rootOf[key] = weak.Make(root)
	c.order = append(c.order, key)
	if len(c.order) > maxLinkedSnapshots {
		delete(c.rootOf, c.order[0])
		c.order = c.order[1:]
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
	// Built outside the lock; a concurrent caller may build it too.
	ix := buildFastIndex(root, p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.indexes[root] == nil {
		c.indexes[root] = map[string]*fastIndex{}
		c.roots = append(c.roots, root)
		if len(c.roots) > maxIndexedRoots {
			delete(c.indexes, c.roots[0])
			c.roots = c.roots[1:]
		}
	}
	c.indexes[root][class] = ix
	return ix
}
