package model

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
)

// HTTPRoutesOnlyDiff reports whether new differs from old only in its
// HTTPRoutes, and which: the "namespace/name" of every route added,
// removed or changed. A route object both snapshots share (writers that
// keep unchanged objects) costs a pointer comparison; others are compared
// in full. Snapshots holding two routes of one name are refused (ok false).
func HTTPRoutesOnlyDiff(old, new *Snapshot) (changed map[string]bool, ok bool) {
	if old == nil || new == nil {
		return nil, false
	}
	changed = map[string]bool{}
	if old == new {
		return changed, true
	}
	if old.shapeHash != new.shapeHash || len(old.services) != len(new.services) ||
		!slices.Equal(old.endpointBlocks, new.endpointBlocks) || !slices.Equal(old.endpointHashes, new.endpointHashes) ||
		!sameStructureBesidesRoutes(old, new) {
		return nil, false
	}
	a, b := old.httpRoutes, new.httpRoutes
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if (i > 0 && i < len(a) && compareRouteKeys(a[i-1], a[i]) == 0) || (j > 0 && j < len(b) && compareRouteKeys(b[j-1], b[j]) == 0) {
			return nil, false
		}
		c := 0
		switch {
		case j == len(b):
			c = -1
		case i == len(a):
			c = 1
		case a[i] != b[j]:
			c = compareRouteKeys(a[i], b[j])
		}
		switch {
		case c < 0:
			changed[RouteKey(a[i])] = true
			i++
		case c > 0:
			changed[RouteKey(b[j])] = true
			j++
		default:
			if a[i] != b[j] && !sameVersion(a[i], b[j]) && !reflect.DeepEqual(a[i], b[j]) {
				changed[RouteKey(a[i])] = true
			}
			i++
			j++
		}
	}
	return changed, true
}

// sameVersion reports whether a and b are the same version of one
// Kubernetes object: the API server gives every write a new
// resourceVersion, so equal UIDs and resourceVersions mean equal objects.
func sameVersion(a, b *HTTPRoute) bool {
	return a.UID != "" && a.ResourceVersion != "" && a.UID == b.UID && a.ResourceVersion == b.ResourceVersion
}

// compareRouteKeys compares the RouteKeys of a and b without building them.
func compareRouteKeys(a, b *HTTPRoute) int {
	if a.Namespace == b.Namespace {
		return strings.Compare(a.Name, b.Name)
	}
	x, y := a.Namespace, b.Namespace
	n := min(len(x), len(y))
	if c := strings.Compare(x[:n], y[:n]); c != 0 {
		return c
	}
	// One namespace is a prefix of the other: the shorter goes on with '/'.
	if len(x) < len(y) {
		return cmp.Compare('/', y[n])
	}
	return cmp.Compare(x[n], '/')
}

// RouteKey is an HTTPRoute's "namespace/name", the order of
// Snapshot.HTTPRoutes.
func RouteKey(r *HTTPRoute) string { return r.Namespace + "/" + r.Name }

// HTTPRoute returns the route with key "namespace/name" (nil if none).
func (s *Snapshot) HTTPRoute(key string) *HTTPRoute {
	i, found := slices.BinarySearchFunc(s.httpRoutes, key, func(r *HTTPRoute, k string) int {
		switch rk := RouteKey(r); {
		case rk < k:
			return -1
		case rk > k:
			return 1
		}
		return 0
	})
	if !found {
		return nil
	}
	return s.httpRoutes[i]
}
