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
package kube
