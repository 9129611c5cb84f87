// Package e2eonboard tests `causeway create-remote-secret` end to end
// (issue 13): two real API servers from internal/testenv/kubeenv (a
// management cluster and a new workload cluster running the real
// kube-controller-manager, whose token controller fills the long-lived
// token Secret), the real `causeway` binary registering the workload
// cluster with --apply, `causeway serve` in Kubernetes mode picking the
// cluster up from that Secret alone, and a delta ADS client receiving the
// new cluster's endpoints. On the way it checks the Secret's kubeconfig
// authenticates, through --server, as the ServiceAccount the command
// created, that a second run yields the same kubeconfig, and that
// --token-duration yields a TokenRequest token with its expiry annotated.
//
// It has its own Env rather than internal/e2ekube's shared one: the
// controllers act on every object of their cluster, and the test needs a
// cluster nothing else registers.
//
// Addresses: serve listens on 127.0.85.1 (the block issue 13 gives this
// test); the EndpointSlice holds 198.18.85.10, never dialled (EndpointSlices
// reject loopback addresses).
//
// Requirements: kube-apiserver, etcd and kube-controller-manager
// (CAUSEWAY_KUBE_BIN_DIR, see internal/testenv/kubeenv). Missing binaries
// skip the test, saying why, unless CAUSEWAY_REQUIRE_E2E=1. The package
// has no non-test code.
package e2eonboard
