package translator

import "fmt"

// Resource names shared by the translator's builders. Cluster names follow
// the Istio convention users read in config dumps.

// OutboundClusterName is the EDS cluster a gateway uses for a
// VirtualDestination host and port.
func OutboundClusterName(host string, port uint32) string {
	return fmt.Sprintf("outbound|%d||%s", port, host)
}

// InboundClusterName is the EDS cluster an east-west gateway forwards a
// VirtualDestination host and port to (local endpoints only).
func InboundClusterName(host string, port uint32) string {
	return fmt.Sprintf("inbound|%d||%s", port, host)
}

// ServiceClusterName is the EDS cluster for a Service backendRef in the
// proxy's own cluster.
func ServiceClusterName(namespace, name string, port uint32) string {
	return fmt.Sprintf("outbound|%d||%s.%s.svc.cluster.local", port, name, namespace)
}

// SNI is the server name a gateway sends to a remote east-west gateway so it
// can pick the destination: outbound_.<port>_.<subset>_.<host>.
func SNI(host string, port uint32, subset string) string {
	return fmt.Sprintf("outbound_.%d_.%s_.%s", port, subset, host)
}

// Secret names delivered over SDS.
const (
	IdentitySecretName = "causeway-identity"
	RootCASecretName   = "causeway-root-ca"
)

// TLSMatchKey is the endpoint metadata key (under envoy.transport_socket_match)
// that selects the mTLS transport socket for east-west gateway endpoints.
const TLSMatchKey = "causeway.dev/tls"
