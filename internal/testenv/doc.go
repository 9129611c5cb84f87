// Package testenv is the home of Causeway's end-to-end machinery, kept apart
// from product code: nothing outside tests imports its subpackages.
//
//   - kubeenv: etcd, real kube-apiservers and, for the conformance cluster,
//     kube-controller-manager and kube-scheduler, built from the Go module
//     proxy (build.sh).
//   - netns: network namespaces joined to the host by veth pairs.
//   - nodeagent: a test-only kubelet and container runtime that runs Pods as
//     local processes in network namespaces.
//   - lbstandin: gives LoadBalancer Services a loopback address and forwards
//     it to the Service's ready endpoints, as cloud-provider-kind does.
package testenv
