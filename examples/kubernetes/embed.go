package kubernetes

import "embed"

// WorkloadCluster holds workload-cluster/: the manifests `causeway
// create-remote-secret` applies (internal/onboard), embedded so the command
// grants exactly what `kubectl apply -k` of this directory grants.
//
//go:embed workload-cluster/*.yaml
var WorkloadCluster embed.FS
