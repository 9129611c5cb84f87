// Package file reads the world (clusters, services with endpoints,
// VirtualDestinations, ExternalServices, FailoverPolicies,
// OutlierDetectionPolicies, Workspaces, Gateways, HTTPRoutes and
// ReferenceGrants) from one multi-document YAML file and keeps a
// model.Store up to date while the file changes. Causeway's policy kinds
// and Workspaces use exactly the CRDs' format (api/v1alpha1), checked as
// the CRDs check them (discovery/apiconv).
//
// Every document is decoded strictly (unknown fields are errors) and
// validated; all problems are reported together, each naming the file, the
// document's position, kind and name, and the field at fault, e.g.
//
//	world.yaml: document 3 (VirtualDestination bookinfo/reviews): spec.ports[0].number: must be 1-65535
//
// Defaults applied while loading: namespace "default", endpoint ready=true,
// endpoint locality from its cluster (fields given override), endpoint ports
// from the service ports, service targetPort = port, east-west gateway port
// 15443. A VirtualDestination's age (older wins host conflicts) is its
// metadata.creationTimestamp when given, then its document position.
//
// A reload decodes only the documents whose text changed since the last
// load (docCache): decoding YAML is nearly all the cost of a load, and a
// world of tens of thousands of documents takes seconds. Numbering,
// duplicates and references between documents are checked on the whole
// file every time, so the result is the same as a first load's.
//
// While serving, a reload must not publish a write caught halfway
// (guard.go, loader.go): the file is read until two reads agree, a file
// without documents is refused, and a world that drops much of what is
// served, or whose last line is unfinished, is held until the file stays
// unchanged for a confirm delay. The watcher (watch.go, watchset.go)
// reacts only to the file and the symlinks leading to it, and loads a
// burst of changes within a bounded time.
//
// Gateway certificates come as v1 Secret documents of type
// kubernetes.io/tls (secret.go), decoded by hand so that no error quotes
// what a Secret holds; whether the PEM is usable is the translator's call.
package file
