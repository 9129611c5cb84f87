// Package onboard registers a workload cluster with Causeway, what
// `causeway create-remote-secret` runs: it applies the manifests of
// examples/kubernetes/workload-cluster (embedded, so the command grants
// exactly what `kubectl apply -k` of that directory grants) to the workload
// cluster by server-side apply, obtains a token of their ServiceAccount,
// and builds the Secret labelled causeway.dev/cluster=true that registers
// the cluster on the management cluster, checked with the parser serve
// uses (discovery/kube.ParseClusterSecret).
package onboard
