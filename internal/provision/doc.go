// Package provision deploys the gateway proxies of Causeway's Gateways in
// Kubernetes mode: for each Gateway Causeway owns and accepts, in every
// workload cluster that serves it (annotation causeway.dev/cluster, else
// every cluster), a Deployment of Envoy, a Service in front of it, a
// ServiceAccount and a ConfigMap holding the bootstrap, all in one
// namespace of the workload cluster (the proxy namespace, causeway-system
// by default, created when missing: like Envoy Gateway's default, the
// proxies live with Causeway's other proxies, whose service accounts the
// xDS server authenticates).
//
// Objects are named causeway-gw-<namespace>-<name>-<hash> and labelled
// with the Gateway (model.GatewayNameLabel, model.GatewayNamespaceLabel)
// and app.kubernetes.io/managed-by=causeway; objects so labelled whose
// Gateway is gone, not Causeway's, or no longer served by that cluster are
// deleted. Settings come from the GatewayParameters the GatewayClass names
// (translator.ProvisionParameters), with defaults.
//
// Objects are written with server-side apply (field manager
// causeway-provisioner), only by the replica that holds the status
// writer's Lease. The builders (objects.go) are pure; the Provisioner
// (provisioner.go) compares, applies and deletes.
package provision
