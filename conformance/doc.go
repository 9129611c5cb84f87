// Package conformance runs the upstream Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance, the version go.mod pins) against
// Causeway, as a user would deploy it, on a real cluster built on this
// machine: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler (internal/testenv/kubeenv), a test-only node agent that
// runs Pods as local processes in network namespaces
// (internal/testenv/nodeagent: echo-basic, coredns and, for the gateway
// Pods Causeway provisions, the real Envoy), and a load-balancer stand-in
// that gives LoadBalancer Services a loopback address
// (internal/testenv/lbstandin). `causeway serve` runs in Kubernetes mode
// with TLS xDS and provisions each Gateway's Envoy Deployment.
//
// The package has no code besides its tests. skip.yaml is the reviewed
// skip list (one entry per test, with the reason); `make conformance`
// writes the suite's ConformanceReport to reports/<version>/causeway.yaml.
// See the README's Conformance section.
//
// Addresses (unique machine-wide; see internal/testenv): the node network
// 198.18.64.0/22 (node address 198.18.64.1, where `causeway serve` also
// listens for xDS), LoadBalancer addresses 127.0.80.0/24.
package conformance
