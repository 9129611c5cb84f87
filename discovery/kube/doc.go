// Package kube builds Causeway's model from Kubernetes objects.
//
// Workload clusters contribute Services, EndpointSlices, Pods (endpoint
// labels) and Nodes (endpoint localities); the management cluster
// contributes Causeway's own resources (api/v1alpha1) and Gateway API
// Gateways, HTTPRoutes and ReferenceGrants. BuildWorld turns those objects
// into a model.World. It is the only converter: the live informers and the
// offline `causeway translate --kube` (ManifestSet, which decodes plain
// YAML manifests) both call it, so what Causeway serves and what translate
// prints cannot disagree.
//
// LoadClusterConfig reads the cluster config file (`--clusters`): which
// clusters exist, how to reach them, and their network, default locality
// and east-west gateways.
//
// Controller is the live side: a registry of clusters (the config file plus
// Secrets labelled causeway.dev/cluster on the management cluster, added,
// removed and rotated at runtime; a rotated kubeconfig is synced before the
// old client stops), shared informers per cluster with transforms that drop
// what the model does not need, management informers for Causeway CRs,
// Gateway API objects, Namespaces (labels, for listener namespace
// selectors) and kubernetes.io/tls Secrets in every namespace (certificate
// and key only, never logged), and a health probe per cluster. A cluster that stays
// unreachable for StaleAfter keeps its last endpoints but marks them stale,
// so the translator ranks them below every fresh endpoint. Every change is
// debounced, rebuilt and published to the model.Store; the rebuild
// converts again only the objects that changed (worldCache), with
// BuildWorld's own conversions, so its cost follows the change, not the
// world.
//
// Controller.ReviewToken authenticates proxies' service-account tokens for
// the xDS server with the TokenReview API of the cluster a proxy claims,
// through that cluster's active client.
package kube
