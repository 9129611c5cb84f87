// Package xds serves Envoy configuration over ADS (state of the world and
// delta) with go-control-plane's SnapshotCache.
//
// # Classes
//
// A proxy's configuration depends only on its identity: role, cluster,
// locality and bind address (model.Proxy). Proxies with equal identities
// form a class and share one immutable snapshot: the cache's NodeHash maps
// a node to its class key instead of its node ID. A gateway deployment of
// fifty replicas is therefore translated, validated and stored once, and a
// world update costs one SetSnapshot per class rather than per proxy
// (SetSnapshot holds a cache-wide lock while it answers every watch of
// that key).
//
// A class exists while it has open streams. A stream's first request
// registers it with its class and builds the class's snapshot if it has
// none, before go-control-plane opens the request's watch. When the last
// stream of a class closes, its snapshot and cache status are dropped:
// go-control-plane never forgets a node on its own. A node whose metadata
// names no valid role and cluster hashes to "invalid~<node id>", is logged
// and counted, and never gets a snapshot.
//
// # Publishing
//
// Every model update (debounced: --debounce-quiet after the last change, at
// most --debounce-max after the first) updates all active classes, and
// a ticker rebuilds classes whose workload certificate has passed half its
// lifetime. Versions are hashes of the marshalled resources, per type, so
// identical output is never re-published and endpoint changes do not
// re-send clusters. Before publishing, a snapshot is validated (every
// resource and every google.protobuf.Any payload inside it, references,
// contiguous priorities); a failing one is logged, counted and dropped, and
// proxies keep the last good one.
//
// # Endpoint fast path
//
// When the new world differs from the one a class was built from only in
// Service endpoints (translator.EndpointsOnlyChange), the class is not
// translated again: only the load assignments fed by the changed Services
// are recomputed (translator.LoadAssignments), marshalled, hashed and
// validated, and the new snapshot shares every other resource, and its
// version, with the last one. Per-resource versions are computed once when
// a resource enters a snapshot (go-control-plane's own Snapshot re-hashes
// every resource for every delta publish), and per-type versions are the
// XOR of per-resource digests, so they update in proportion to the change.
// A fast-path result naming a cluster the snapshot lacks, or failing
// validation, falls back to a full rebuild.
//
// # NACKs
//
// A NACK is logged and counted. For state-of-the-world streams the request
// is rewritten to claim the rejected version, because the cache would
// otherwise resend that same version immediately, in a loop; the proxy gets
// the next new version instead.
package xds
