// Package v1alpha1 holds Causeway's Kubernetes API types (group
// networking.causeway.dev, version v1alpha1): VirtualDestination,
// ExternalService, FailoverPolicy, OutlierDetectionPolicy, Workspace
// (cluster-scoped) and GatewayParameters (what GatewayClass parametersRef
// names: how Causeway provisions gateway proxies).
//
// The field names follow the product documents users already know (hosts,
// ports, services, applyToDestinations, ...). The CRD manifests in api/crds
// and zz_generated.deepcopy.go are generated from these types by
// `make generate`; `make check-generated` fails when they are out of date.
//
// Offline tooling (causeway translate) reads these types from YAML files
// without an API server, so defaults the CRDs apply on admission are also
// available as Go accessors (for example OutlierDetectionConfig.Interval
// via IntervalOrDefault).
//
// +kubebuilder:object:generate=true
// +groupName=networking.causeway.dev
package v1alpha1
