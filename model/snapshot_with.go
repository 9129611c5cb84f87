package model

import (
	"maps"
	"slices"
	"sort"
)

// Changes are new contents for Services, VirtualDestinations and
// HTTPRoutes that a snapshot already has, each found by its key
// (Service.Key; namespace and name of the others).
type Changes struct {
	Services            []Service
	VirtualDestinations []VirtualDestination
	HTTPRoutes          []*HTTPRoute
}

// With returns the snapshot NewSnapshot would make of s's world with the
// objects of c in place of those with their keys, at a cost that grows with
// c, not with the world: unchanged objects are shared with s (nothing
// writes to a snapshot), the objects of c are copied. With ok false (a key
// s lacks or holds twice, or one c names twice) the caller must build the
// snapshot with NewSnapshot. It is for writers that know what changed:
// everything but the objects of c must be as in s's world.
func (s *Snapshot) With(c Changes) (snap *Snapshot, ok bool) {
	svcAt, ok := s.servicePositions(c.Services)
	if !ok {
		return nil, false
	}
	vdAt, ok := s.vdPositions(c.VirtualDestinations)
	if !ok {
		return nil, false
	}
	routeAt, ok := s.routePositions(c.HTTPRoutes)
	if !ok {
		return nil, false
	}
	t := *s
	if len(routeAt) > 0 {
		// Unchanged routes stay shared, so HTTPRoutesOnlyDiff compares
		// them by pointer.
		t.httpRoutes = slices.Clone(s.httpRoutes)
		for j, i := range routeAt {
			t.httpRoutes[i] = c.HTTPRoutes[j].DeepCopy()
		}
	}
	h := newHasher()
	if len(svcAt) > 0 {
		t.replaceServices(s, copyServices(c.Services), svcAt, h)
	}
	if len(vdAt) > 0 {
		t.virtualDestinations = slices.Clone(s.virtualDestinations)
		for j, i := range vdAt {
			t.shape.vds -= vdShape(h, i, &s.virtualDestinations[i])
			t.virtualDestinations[i] = copyVirtualDestination(c.VirtualDestinations[j])
			t.shape.vds += vdShape(h, i, &t.virtualDestinations[i])
		}
	}
	t.shapeHash = t.shape.hash(len(t.services), len(t.virtualDestinations))
	return &t, true
}

// replaceServices puts fresh (copies) at positions at of s's Services into
// t, a copy of s, and updates the fingerprints of the blocks they are in.
func (t *Snapshot) replaceServices(s *Snapshot, fresh []Service, at []int, h *hasher) {
	t.services = slices.Clone(s.services)
	t.endpointHashes = slices.Clone(s.endpointHashes)
	t.endpointBlocks = slices.Clone(s.endpointBlocks)
	sameLabels := true
	blocks := map[int]bool{}
	for j, i := range at {
		old := &s.services[i]
		t.shape.services -= serviceShape(h, i, old)
		t.services[i] = fresh[j]
		t.shape.services += serviceShape(h, i, &t.services[i])
		t.endpointHashes[i] = endpointsHash(fresh[j].Endpoints)
		blocks[i/endpointBlock] = true
		sameLabels = sameLabels && maps.Equal(old.Labels, fresh[j].Labels)
	}
	for b := range blocks {
		t.endpointBlocks[b] = endpointBlockHash(t.endpointHashes, b)
	}
	// The index holds names, namespaces and labels by position: it stays
	// right (and is shared, built once) while no label changed.
	if !sameLabels {
		t.svcIndex = &serviceIndex{}
	}
}

// servicePositions finds the position of each Service of changed in s.
func (s *Snapshot) servicePositions(changed []Service) ([]int, bool) {
	if len(changed) > 0 && len(s.serviceByKey) != len(s.services) {
		return nil, false // s holds a key twice: which one changed?
	}
	at := make([]int, len(changed))
	seen := make(map[int32]bool, len(changed))
	for j := range changed {
		i, ok := s.serviceByKey[changed[j].Key()]
		if !ok || seen[i] {
			return nil, false
		}
		seen[i] = true
		at[j] = int(i)
	}
	return at, true
}

// vdPositions finds the position of each VirtualDestination of changed in
// s, by binary search: they are sorted by namespace/name.
func (s *Snapshot) vdPositions(changed []VirtualDestination) ([]int, bool) {
	vds := s.virtualDestinations
	key := func(i int) string { return vds[i].Namespace + "/" + vds[i].Name }
	at := make([]int, len(changed))
	seen := make(map[int]bool, len(changed))
	for j := range changed {
		want := changed[j].Namespace + "/" + changed[j].Name
		i := sort.Search(len(vds), func(i int) bool { return key(i) >= want })
		if i == len(vds) || key(i) != want || (i+1 < len(vds) && key(i+1) == want) || seen[i] {
			return nil, false
		}
		seen[i] = true
		at[j] = i
	}
	return at, true
}

// routePositions finds the position of each HTTPRoute of changed in s, by
// binary search: they are sorted by namespace/name.
func (s *Snapshot) routePositions(changed []*HTTPRoute) ([]int, bool) {
	routes := s.httpRoutes
	at := make([]int, len(changed))
	seen := make(map[int]bool, len(changed))
	for j, r := range changed {
		i := sort.Search(len(routes), func(i int) bool { return compareRouteKeys(routes[i], r) >= 0 })
		if i == len(routes) || compareRouteKeys(routes[i], r) != 0 || (i+1 < len(routes) && compareRouteKeys(routes[i+1], r) == 0) || seen[i] {
			return nil, false
		}
		seen[i] = true
		at[j] = i
	}
	return at, true
}
