// Package chart holds the tests of the Causeway Helm chart (this directory:
// Chart.yaml, values.yaml, templates/, crds/). They render the chart with
// the real helm binary ($CAUSEWAY_HELM, `make helm`) and
//   - check that crds/ is byte-for-byte api/crds (make generate copies it),
//   - apply every rendered object, CRDs first, server-side with strict field
//     validation to a real kube-apiserver (internal/testenv/kubeenv), for
//     the default values and several other value sets,
//   - check least privilege: no wildcard, and no Role or ClusterRole rule
//     beyond what examples/kubernetes grants,
//   - render with the values that describe examples/kubernetes and compare
//     every object with those manifests, so the two cannot drift.
//
// The chart is rendered by the helm CLI, not the helm.sh/helm/v4 library:
// that library needs newer k8s.io modules than go.mod pins.
package chart
