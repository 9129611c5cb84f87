// Package xds serves Envoy configuration over ADS (state of the world and
// delta) from one shared, immutable snapshot per proxy class.
//
// # Classes
//
// A proxy's configuration depends only on its identity: role, cluster,
// locality and bind address (model.Proxy). Proxies with equal identities
// form a class and share one snapshot. A gateway deployment of fifty
// replicas is therefore translated, validated, encoded and stored once,
// and a world update costs one publication per class rather than per
// proxy.
//
// A class exists while it has open streams. A stream's first request
// registers it with its class and builds the class's snapshot if it has
// none. When the last stream of a class closes, its snapshot goes too. A
// node whose metadata names no valid role and cluster gets a class of its
// own ("invalid~<node id>"), is logged and counted, and never gets a
// snapshot.
//
// # Serving
//
// Each resource is encoded once, when it enters a snapshot, and that
// encoding is shared by every response on every stream (go-control-plane's
// caches marshal each resource again for each response on each stream,
// which dominated the cost of pushing to many proxies). Publishing swaps a
// pointer and wakes the class's streams (feed.go); each stream works out on
// its own goroutine what its proxy lacks (ads_sotw.go, ads_delta.go):
//
//   - a stream remembers the set of each type its proxy last accepted, not
//     a version per resource; every set links to the set it was derived
//     from with the names that changed, so a stream's diff costs the
//     changed names, not the size of the snapshot;
//   - delta streams send only changed and removed resources; state-of-the-
//     world streams send complete listeners, clusters, routes and secrets,
//     and after the first response only the changed load assignments;
//   - a stream sends one response per type at a time and the next once the
//     proxy answered, so a slow proxy gets the newest version, not a queue;
//   - a cluster that changed gets its load assignment again right after,
//     changed or not: Envoy warms a changed cluster until it receives one
//     (else until initial_fetch_timeout, 15 s by default);
//   - a response carrying a whole set (an initial sync) is sent as its own
//     fields followed by the set's resources encoded once for all streams
//     (resourceSet.wholeBody, held weakly): protobuf encodings concatenate
//     to their merge, so 1,000 initial syncs hold one copy, not 1,000;
//   - any other response of 1 MiB and more (a changed 5 MB route
//     configuration for every proxy of a class) is its own fields, then
//     per resource a few header bytes and the resource's shared encoding
//     by reference (codec_refs.go), not a copy per stream;
//   - responses a stream encodes for itself of 64 KiB and more draw on a
//     server-wide send budget until the proxy answers, but hold it at most
//     Options.SendBudgetHold (5 s) and wait for it at most that long
//     (budget.go): a proxy that does not answer delays the others by
//     seconds, not for as long as it stalls;
//   - requests are decoded from gRPC's buffers in place, names interned; a
//     long list (a state-of-the-world ACK names every load assignment) is
//     decoded once and shared: requests naming a list being decoded wait
//     for that decode, and at most max(2, GOMAXPROCS) long lists are
//     decoded at once (codec.go, codec_lists.go);
//   - a stream's responses are sent on a goroutine of its own, so a proxy
//     that stops reading (gRPC's send then blocks on flow control) cannot
//     stop the stream's loop: a response unanswered for
//     Options.ResponseTimeout (1 m) closes the stream, which ends the send.
//
// # Limits
//
// In every mode, a stream must send its first request within
// Options.FirstRequestTimeout (10 s), a connection carries at most
// Options.MaxStreamsPerConnection streams (HTTP/2 MAX_CONCURRENT_STREAMS),
// and connections end after Options.MaxConnectionAge (30 m), so proxies
// spread over the replicas again. With TLS, streams are also counted per
// identity (auth_stream.go). Logs carry at most 256 bytes of any value a
// client controls, and NACK, connection and refusal lines are rate-limited
// (logs.go); the metrics count every event.
//
// # Publishing
//
// Every model update (debounced: --debounce-quiet after the last change, at
// most --debounce-max after the first, unless the source debounces itself
// as Kubernetes discovery does) updates all active classes, and
// a ticker rebuilds classes whose workload certificate has passed half its
// lifetime. Versions are hashes of the marshalled resources, per type, so
// identical output is never re-published and endpoint changes do not
// re-send clusters. Before publishing, a snapshot is validated (every
// resource and every google.protobuf.Any payload inside it, references,
// contiguous priorities); a failing one is logged, counted and dropped, and
// proxies keep the last good one. Each resource is validated as soon as it
// is encoded and its message dropped then, load assignments already while
// the translator builds the rest (translator.TranslateStreaming,
// snapshot_build.go), so a class's translated messages are never all alive
// at once.
//
// # Endpoint fast path
//
// When the new world differs from the one a class was built from only in
// Service endpoints (translator.EndpointsOnlyChange), the class is not
// translated again: only the load assignments fed by the changed Services
// are recomputed (translator.LoadAssignments), marshalled, hashed and
// validated, and the new snapshot shares every other resource, and its
// version, with the last one. Per-type versions are the XOR of
// per-resource digests, so they update in proportion to the change.
// A fast-path result naming a cluster the snapshot lacks, or failing
// validation, falls back to a full rebuild.
//
// # Route fast path
//
// When the new world differs from a class's last one only in HTTPRoutes
// (translator.HTTPRoutesOnlyChange), translator.RouteUpdates names the
// changed route configurations by their virtual hosts, with only the
// rebuilt ones as messages, and the Service clusters (with load
// assignments) that come into or go out of use. A gateway port's route
// configuration holds a virtual host per hostname, so it is as large as
// the world: the patched configuration's encoding reuses every unchanged
// virtual host's encoding from the last one (snapshot_routes.go: fields
// are written in field number order and a repeated field is a run of
// length-prefixed encodings), so only the rebuilt virtual hosts are
// marshalled and validated; the new encoding is hashed whole. Every other
// resource keeps its item and version. East-west classes, which serve no
// routes, publish nothing. A patch that does not fit the snapshot falls
// back to a full rebuild.
//
// # Handoff
//
// An endpoint change is handed over in order between gateways and east-west
// gateways (handoff.go), so no request goes to an east-west gateway that
// has just dropped its endpoints or not yet learnt them: gateways first get
// the new world with only the endpoints ready before and after, east-west
// gateways the new world with the endpoints ready before still ready
// (model.EndpointHandoff); once every stream of those classes has answered
// everything sent, the new world goes to everyone. Each stream records the
// last publication it has settled (everything due sent and answered). The
// wait is bounded by --handoff-timeout and cut short by a newer world; it
// holds no lock. Only endpoint-only changes are handed over, through the
// endpoint fast path, and only when both roles are connected.
//
// # NACKs
//
// A NACK is counted and logged (a stream's first, then at most one per
// 10 s), and the rejected version is not sent again:
// the proxy keeps what it had and gets the next new version.
//
// # Proxy status
//
// Server.ProxyStatuses lists every open stream with, per type, the last
// response sent, ACKed and NACKed (the NACK message kept to MaxNACKMessage
// bytes) and whether the proxy holds the class's current version
// (proxystatus.go), for `causeway proxy-status`. Each stream copies its
// per-type state into its registry entry after every turn of its loop,
// under a lock of its own, so the reader never waits for a build or a
// stream. Streams are listed one by one, a node's newest first.
package xds
