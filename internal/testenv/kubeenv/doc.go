// Package kubeenv runs real Kubernetes API servers for tests: one etcd and
// one kube-apiserver per named cluster, each apiserver keeping its objects
// under its own etcd prefix (/<name>), so several "clusters" cost one etcd.
//
// By default no controller-manager or scheduler runs: tests create Nodes,
// Services, EndpointSlices and Pods directly, which is all discovery reads.
// Cluster.StartControllers (RequireControllers in a test) opts a cluster
// into the real kube-controller-manager and kube-scheduler: Deployments
// then become ReplicaSets and Pods bound to a Node, Services get
// EndpointSlices of their ready Pods, namespaces are deleted and owners'
// dependents garbage collected. Nothing plays kubelet: a test (or the
// conformance node agent) registers the Node, renews its Lease, reports
// Pod status and finishes graceful Pod deletion. The controllers act on
// every object of their cluster, so tests that hand-make Pods or
// EndpointSlices use another cluster.
//
// The ServiceAccount admission plugin is off, with or without the
// controllers, so Pods can be created without waiting for the "default"
// ServiceAccount; in turn no service-account token volume is added to
// Pods (one a Pod spec lists itself works). Authentication is a static token
// (AdminToken) and authorization AlwaysAllow. Each apiserver signs
// service-account tokens (TokenRequest) with its own key, so a token
// verifies (TokenReview) only at the cluster that minted it, as with real
// clusters.
//
// Binaries come from $CAUSEWAY_KUBE_BIN_DIR, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/causeway/kube, as built by build.sh
// (`make kube-bins`): kube-apiserver, etcd, kube-controller-manager,
// kube-scheduler, and coredns for the conformance node agent. When they
// are missing, Start (or RequireControllers) skips the test, or fails it
// when CAUSEWAY_REQUIRE_E2E=1.
//
// Starting costs a few seconds of CPU per apiserver, so a package with
// several tests should share one Env through TestMain:
//
//	var kube = kubeenv.NewShared("management", "cluster-1", "cluster-2")
//
//	func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		env := kube.Env(t) // started on first use; skips like Start
//		env.InstallCRDs(t, "management")
//		...
//	}
//
// NewWithOptions adds apiserver flags (smaller watch caches when many
// apiservers share a machine) and bounds how many start at once;
// Env.AddClusters starts more apiservers on the same etcd later. The load
// tool (cmd/causeway-load --clusters-scale) runs twenty this way.
//
// Tests sharing an Env must not step on each other: each uses its own
// namespaces (and names for cluster-scoped objects such as Nodes), and a
// test that stops a cluster starts it again before it ends and does not run
// in parallel with others.
//
// Every process (etcd, apiservers, controllers) is started in its own
// process group with SIGKILL as its parent-death signal and stopped by PID
// (SIGKILL: API servers shut down slowly, and the tests do not need a
// graceful end).
package kubeenv
