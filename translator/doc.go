// Package translator turns a model snapshot and a proxy identity into the
// Envoy resources that proxy should run: listeners, routes, clusters,
// endpoints and secrets. Translate is a pure function: same input, same
// output, sorted by name; it never fails, it reports bad input as
// Diagnostics and degrades only the object at fault (a route to a missing
// backend answers 500). It does keep two things, in small caches: the
// endpoint fast path's index of the world's structure for the proxy's
// class (fastpath.go), so that LoadAssignments after an endpoints-only
// change (EndpointsOnlyChange) costs only the assignments it rebuilds; and
// a gateway class's route attachments per listener port and Service
// cluster uses per route (fastpath_routes*.go), so that RouteUpdates after
// an HTTPRoutes-only change (HTTPRoutesOnlyChange) rebuilds only the
// virtual hosts the changed routes cover, with the code Translate runs
// (gatewayBuilder.virtualHost), byte-identical to a full translation.
//
// Three proxy roles: a gateway proxy serves Gateways and their HTTPRoutes;
// an east-west proxy forwards mTLS from other clusters to its own; a
// client proxy (client*.go) serves in-cluster applications the
// VirtualDestination and federated hostnames its workspace sees, with a
// gateway's clusters, DNS for those names, and HTTPRoutes attached to a
// VirtualDestination or Service (mesh routes).
//
// Statuses, equally pure, computes what the status of each
// VirtualDestination, ExternalService, policy, Workspace, Gateway and
// HTTPRoute should say. It calls the same code Translate does for host:port
// claims (claimHostPorts), policy attachment (indexPolicies), listener
// checks and route attachment (attach.go) and backendRef resolution
// (backendResolver, with ReferenceGrants), so a status never disagrees
// with the config proxies get.
//
// Explain, pure too, says for a proxy and a host which endpoints its load
// assignments hold, at which priority, by which rule and weight, and which
// endpoints are left out and why (explain*.go). It runs the code Translate
// runs: ranking levels come with the rule that set them (ranking.levelOf),
// groups are ranked by endpointSet.ranked, and candidate collection
// reports what it skips, so an explanation cannot disagree with the EDS.
//
// Translate and Statuses see only the Gateways Causeway owns: those whose
// GatewayClass names the world's controllerName (ownership.go). Other
// controllers' Gateways, and route parentRefs naming them, are left alone;
// Statuses also reports on Causeway's GatewayClasses, with the features
// listed in features.go.
package translator
