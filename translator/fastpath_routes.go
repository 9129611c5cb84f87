package translator

import (
	"maps"
	"slices"
	"sync"
	"weak"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/causeway-dev/causeway/model"
)

// The route fast path. A change that touches only HTTPRoutes leaves a
// gateway proxy's listeners, its VirtualDestination and federated clusters
// and their load assignments, and its secrets unchanged: what it changes
// is the virtual hosts the changed routes cover and which Service
// backendRef clusters are in use. Translate leaves behind, per class, the
// route attachments of every listener port and the clusters each route
// uses (routeState); RouteUpdates indexes them by hostname on first use
// and, for a change, rebuilds just the virtual hosts whose hostnames a
// changed route's hostnames (old or new) cover, with the same code
// Translate runs (gatewayBuilder.virtualHost), and counts cluster uses.

// RouteUpdate is what an HTTPRoutes-only change changes in a proxy's
// resources (RouteUpdates).
type RouteUpdate struct {
	// Routes are the route configurations that changed, sorted by name.
	Routes []RouteConfigPatch
	// Clusters are the Service backendRef clusters now in use that were
	// not, Endpoints their load assignments (sorted by name).
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	// RemovedClusters are clusters no longer in use, whose load
	// assignments (if any) go too (sorted).
	RemovedClusters []string
}

// RouteConfigPatch describes a changed route configuration by its virtual
// hosts, so that the unchanged ones keep their encoding.
type RouteConfigPatch struct {
	// Config is the route configuration without its virtual hosts.
	Config *routev3.RouteConfiguration
	// VirtualHosts names every virtual host of the configuration, in order.
	VirtualHosts []string
	// Built are the virtual hosts rebuilt (new or possibly changed), by
	// name; every other virtual host is as in the last configuration.
	Built map[string]*routev3.VirtualHost
}

// HTTPRoutesOnlyChange reports whether new differs from old only in
// HTTPRoutes, and which ("namespace/name"): then RouteUpdates can bring a
// proxy's resources from old to new.
func HTTPRoutesOnlyChange(old, new *model.Snapshot) (map[string]bool, bool) {
	return model.HTTPRoutesOnlyDiff(old, new)
}

// RouteUpdates returns how proxy p's resources change from world old to
// world new when they differ only in the changed HTTPRoutes
// (HTTPRoutesOnlyChange): applied to Translate(old)'s resources, the
// result is byte-identical to Translate(new)'s (diagnostics aside, which
// it does not compute). ok is false when it cannot tell: the last
// translation for p's class was not of old's run of endpoints-only
// changes, the world is scoped to Workspaces, or p's role is one routes
// may affect in ways it does not follow. The caller then translates in
// full, which makes RouteUpdates ready for the next change.
//
// Its cost is that of the virtual hosts it rebuilds (plus a scan of the
// hostnames of a port when a changed route has a wildcard hostname or
// none): an update moves p's class's state from old to new.
func RouteUpdates(old, new *model.Snapshot, p model.Proxy, changed map[string]bool) (*RouteUpdate, bool) {
	switch {
	case old == nil || new == nil:
		return nil, false
	case p.Role == model.RoleEastWest:
		return &RouteUpdate{}, true // east-west gateways serve no HTTPRoutes
	case p.Role != model.RoleGateway || newWorkspaces(new).enabled():
		return nil, false
	}
	st := routeStates.take(p.ClassKey(), old)
	if st == nil {
		return nil, false
	}
	u := st.apply(new, changed)
	routeStates.put(p.ClassKey(), weak.Make(new), st)
	refreshFastIndex(old, new, p, st, len(u.Clusters)+len(u.RemovedClusters) > 0)
	return u, true
}

// routeState is a gateway class's route attachments and cluster uses, for
// the worlds of one run of endpoints-only changes (root).
type routeState struct {
	root   weak.Pointer[model.Snapshot]
	p      model.Proxy
	claims *hostPortClaims // detached (fastStructure's): keeps no endpoints alive
	// raw are Translate's attachments per port, until index makes ports.
	raw       map[uint32][]attachment
	listeners map[uint32][]string // listener hostnames per port (anyHost for none)
	ports     map[uint32]*portRoutes
	// routeClusters: the Service clusters each route's served rules use
	// (repeats included); uses counts them over all routes.
	routeClusters map[string][]string
	uses          map[string]int
	// backends: the Service and port of each used cluster that has a
	// load assignment (for the endpoint fast path's index).
	backends map[string]serviceBackend
}

type serviceBackend struct {
	key  model.ServiceKey
	port uint32
}

// newRouteState keeps what a translation's gateway builder b computed.
func newRouteState(root weak.Pointer[model.Snapshot], p model.Proxy, claims *hostPortClaims, b *gatewayBuilder) *routeState {
	st := &routeState{
		root: root, p: p, claims: claims, raw: b.attached,
		listeners:     make(map[uint32][]string, len(b.ports)),
		routeClusters: make(map[string][]string, len(b.routeClusters)),
		uses:          map[string]int{},
		backends:      map[string]serviceBackend{},
	}
	for port, ls := range b.ports {
		for _, l := range ls {
			st.listeners[port] = append(st.listeners[port], cmpOr(l.hostname, anyHost))
		}
	}
	for route, names := range b.routeClusters {
		st.routeClusters[model.RouteKey(route)] = names
		for _, n := range names {
			st.uses[n]++
		}
	}
	st.noteBackends(b, slices.Collect(maps.Keys(st.uses)))
	return st
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// noteBackends records the Service and port of the named clusters b built.
func (st *routeState) noteBackends(b *gatewayBuilder, names []string) {
	for _, n := range names {
		if bc := b.serviceClusters[n]; bc != nil && bc.endpoints != nil && bc.service != nil {
			st.backends[n] = serviceBackend{bc.service.Key(), bc.port}
		}
	}
}

// apply moves st from its world to new, where the changed routes differ,
// and returns the resources that changed.
func (st *routeState) apply(new *model.Snapshot, changed map[string]bool) *RouteUpdate {
	scratch := &Resources{}
	b := &gatewayBuilder{
		w: new, p: st.p, r: scratch,
		resolver:            backendResolver{w: new, cluster: st.p.Cluster, claims: st.claims},
		serviceClusters:     map[string]*builtCluster{},
		usedServiceClusters: map[string]bool{},
		entries:             map[*model.HTTPRoute][]*routeEntry{},
		routeClusters:       map[*model.HTTPRoute][]string{},
	}
	p := st.p
	b.idx = newGatewayIndex(new, scratch, func(gw *model.Gateway) bool { return servedBy(gw, p.Cluster) && p.ServesGateway(gw.Namespace, gw.Name) })
	st.index()
	keys := slices.Sorted(maps.Keys(changed))
	routes := make(map[string]*model.HTTPRoute, len(keys))
	attach := make(map[string]map[uint32][]attachment, len(keys))
	for _, k := range keys {
		if r := new.HTTPRoute(k); r != nil {
			routes[k] = r
			attach[k] = b.attachRoute(r)
		}
	}
	u := &RouteUpdate{}
	for _, port := range slices.Sorted(maps.Keys(st.ports)) {
		if patch := st.ports[port].apply(b, keys, attach); patch != nil {
			u.Routes = append(u.Routes, *patch)
		}
	}
	// Cluster uses: the changed routes' old uses go, their new ones (the
	// rules rebuilt above, if any virtual host took them) come.
	before := map[string]int{}
	for _, k := range keys {
		for _, n := range st.routeClusters[k] {
			before[n] = st.uses[n]
			st.uses[n]--
		}
		delete(st.routeClusters, k)
		if r := routes[k]; r != nil && len(b.routeClusters[r]) > 0 {
			st.routeClusters[k] = b.routeClusters[r]
			for _, n := range b.routeClusters[r] {
				if _, ok := before[n]; !ok {
					before[n] = st.uses[n]
				}
				st.uses[n]++
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(before)) {
		was, now := before[n] > 0, st.uses[n] > 0
		switch {
		case was && !now:
			delete(st.uses, n)
			delete(st.backends, n)
			u.RemovedClusters = append(u.RemovedClusters, n)
		case !was && now:
			bc := b.serviceClusters[n]
			u.Clusters = append(u.Clusters, bc.cluster)
			if bc.endpoints != nil {
				u.Endpoints = append(u.Endpoints, bc.endpoints)
			}
			st.noteBackends(b, []string{n})
		}
	}
	return u
}

// refreshFastIndex gives new the endpoint fast path's index of old for
// p's class, with the Service backendRef clusters st now uses: the rest of
// the index does not depend on HTTPRoutes.
func refreshFastIndex(old, new *model.Snapshot, p model.Proxy, st *routeState, clustersChanged bool) {
	c := fast
	c.mu.Lock()
	ix := c.indexes[c.root(old)][p.ClassKey()]
	c.mu.Unlock()
	if ix == nil {
		return // LoadAssignments builds one when it needs it
	}
	next := &fastIndex{fastStructure: ix.fastStructure, policies: ix.policies, fedByService: ix.fedByService, backendPorts: ix.backendPorts}
	if clustersChanged {
		next.backendPorts = make(map[model.ServiceKey][]uint32, len(st.backends))
		for _, sb := range st.backends {
			next.backendPorts[sb.key] = append(next.backendPorts[sb.key], sb.port)
		}
	}
	rememberIndex(new, p, next)
}

// rememberRouteState keeps the route fast path's state of a translation
// of input for p (b is its gateway builder), or forgets the class's state
// when the translation was of a world scoped to Workspaces (scoped false).
func rememberRouteState(input *model.Snapshot, p model.Proxy, scoped bool, claims *hostPortClaims, b *gatewayBuilder) {
	if scoped {
		routeStates.forget(p.ClassKey())
		return
	}
	fast.mu.Lock()
	root := fast.root(input)
	fast.mu.Unlock()
	routeStates.put(p.ClassKey(), root, newRouteState(root, p, claims, b))
}

// routeStateCache holds the newest routeState of each gateway class, at
// most maxRouteStates of them.
type routeStateCache struct {
	mu     sync.Mutex
	states map[string]*routeState
	order  []string // insertion order, for eviction
}

const maxRouteStates = 64

var routeStates = &routeStateCache{states: map[string]*routeState{}}

// take removes and returns class's state if it describes w's run.
func (c *routeStateCache) take(class string, w *model.Snapshot) *routeState {
	fast.mu.Lock()
	root := fast.root(w)
	fast.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.states[class]
	if st == nil || st.root != root {
		return nil
	}
	delete(c.states, class)
	return st
}

func (c *routeStateCache) put(class string, root weak.Pointer[model.Snapshot], st *routeState) {
	st.root = root
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.states[class]; !ok {
		c.order = slices.DeleteFunc(c.order, func(k string) bool { return k == class })
		c.order = append(c.order, class)
	}
	c.states[class] = st
	for len(c.order) > maxRouteStates {
		delete(c.states, c.order[0])
		c.order = slices.Delete(c.order, 0, 1)
	}
}

func (c *routeStateCache) forget(class string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.states, class)
}
