// Package e2ekube holds Causeway's end-to-end tests against real Kubernetes
// API servers (issue 3): one etcd and three kube-apiservers (management,
// cluster-1, cluster-2) from internal/testenv/kubeenv, the real `causeway` binary in
// kube mode, and what a proxy receives over ADS, read by a real delta ADS
// client; then the seed walk-through with real Envoy processes and sample
// backends inside network namespaces the test creates, and, on the same
// data plane, the chaos suite's workload API server outage (issue 10):
// cluster-2's API server stopped and restarted under 50 requests a second
// with every core busy, no request failing. The package has no non-test
// code.
//
// Topology (chosen not to collide with the demo, 127.0.N.x, or internal/e2e,
// 127.0.1N.x):
//
//   - cluster-1 comes from the clusters file (network-1, default locality
//     us-east/us-east-1c, east-west gateway 127.0.21.100:15443); its Nodes put
//     its endpoints in us-east/us-east-1a, so a locality seen over EDS can only
//     have come from a Node. Its gateway Envoy listens on 127.0.21.1:8080.
//   - cluster-2 comes from a Secret in causeway-system on the management
//     cluster (network-2, default locality us-west/us-west-1a, east-west
//     gateway 127.0.22.100:15443, where its east-west Envoy listens); its
//     Node is in us-west/us-west-1b.
//   - reviews v1 and v2 run in cluster-1 at 198.18.1.10 and .11, v3 in
//     cluster-2 at 198.18.2.10, inside network namespaces from internal/testenv/netns
//     (EndpointSlices reject loopback addresses; the subnets are the ones
//     internal/testenv/netns allocates to the walk-through). Envoy binds its upstream
//     connections to its loopback bind address, so the test also lets the
//     namespaces route 127.0.0.0/8 back over the veth, with both veth ends
//     accepting loopback addresses (netns.Namespace.RouteLoopbackBack).
//
// Requirements: kube-apiserver and etcd (CAUSEWAY_KUBE_BIN_DIR, see
// internal/testenv/kubeenv), Envoy (CAUSEWAY_ENVOY) and root for network namespaces.
// Missing pieces skip the tests that need them, saying why, unless
// CAUSEWAY_REQUIRE_E2E=1, which turns every skip into a failure.
package e2ekube
