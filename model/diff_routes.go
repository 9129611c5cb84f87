package model

import (
	"reflect"
	"slices"
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
		var ka, kb string
		if i < len(a) {
			ka = RouteKey(a[i])
			if i > 0 && RouteKey(a[i-1]) == ka {
				return nil, false
			}
		}
		if j < len(b) {
			kb = RouteKey(b[j])
			if j > 0 && RouteKey(b[j-1]) == kb {
				return nil, false
			}
		}
		switch {
		case j == len(b) || (i < len(a) && ka < kb):
			changed[ka] = true
			i++
		case i == len(a) || kb < ka:
			changed[kb] = true
			j++
		default:
			if a[i] != b[j] && !reflect.DeepEqual(a[i], b[j]) {
				changed[ka] = true
			}
			i++
			j++
		}
	}
	return changed, true
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
