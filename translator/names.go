package translator

import "strconv"

// Resource names shared by the translator's builders. Cluster names follow
// the Istio convention users read in config dumps.

// DestinationKey identifies one destination a gateway can route to: a host
// and port (of a VirtualDestination, ExternalService or federated hostname),
// optionally narrowed to a subset, inside a workspace. Every name derived
// from it (cluster, inbound cluster, SNI) is built here so that gateways,
// east-west gateways, backendRef resolution and status agree.
//
// Workspace "" is the implicit workspace of a world without workspaces; its
// names carry no workspace segment, so worlds without workspaces keep the
// names they always had. A named workspace adds a segment so that the same
// host:port in two unconnected workspaces gets distinct, stable names.
type DestinationKey struct {
	Workspace string
	Host      string
	Port      uint32
	Subset    string
}

// ClusterName is the EDS (or DNS) cluster a gateway uses for the
// destination: outbound|<port>|<subset>|<host>[|<workspace>].
func (k DestinationKey) ClusterName() string {
	return k.withWorkspace("outbound|" + strconv.FormatUint(uint64(k.Port), 10) + "|" + k.Subset + "|" + k.Host)
}

// InboundName is the cluster an east-west gateway forwards the destination
// to (its local endpoints only): inbound|<port>|<subset>|<host>[|<workspace>].
func (k DestinationKey) InboundName() string {
	return k.withWorkspace("inbound|" + strconv.FormatUint(uint64(k.Port), 10) + "|" + k.Subset + "|" + k.Host)
}

// SNI is the server name a gateway sends to a remote east-west gateway so it
// can pick the destination: outbound_.<port>_.<subset>_.<host>, with
// ".<workspace>.causeway-ws" appended for a named workspace (an SNI must
// stay a DNS-like name, so the segment is a suffix rather than a "|" part).
func (k DestinationKey) SNI() string {
	sni := "outbound_." + strconv.FormatUint(uint64(k.Port), 10) + "_." + k.Subset + "_." + k.Host
	if k.Workspace != "" {
		sni += "." + k.Workspace + ".causeway-ws"
	}
	return sni
}

func (k DestinationKey) withWorkspace(name string) string {
	if k.Workspace == "" {
		return name
	}
	return name + "|" + k.Workspace
}

// OutboundClusterName is DestinationKey{Host: host, Port: port}.ClusterName():
// the whole-destination cluster in the implicit workspace.
func OutboundClusterName(host string, port uint32) string {
	return DestinationKey{Host: host, Port: port}.ClusterName()
}

// InboundClusterName is DestinationKey{Host: host, Port: port}.InboundName().
func InboundClusterName(host string, port uint32) string {
	return DestinationKey{Host: host, Port: port}.InboundName()
}

// ServiceClusterName is the EDS cluster for a Service backendRef in the
// proxy's own cluster.
func ServiceClusterName(namespace, name string, port uint32) string {
	return "outbound|" + strconv.FormatUint(uint64(port), 10) + "||" + name + "." + namespace + ".svc.cluster.local"
}

// SNI is DestinationKey{Host: host, Port: port, Subset: subset}.SNI(), for
// the implicit workspace.
func SNI(host string, port uint32, subset string) string {
	return DestinationKey{Host: host, Port: port, Subset: subset}.SNI()
}

// Secret names delivered over SDS.
const (
	IdentitySecretName = "causeway-identity"
	RootCASecretName   = "causeway-root-ca"
)

// TLSMatchKey is the endpoint metadata key (under envoy.transport_socket_match)
// that selects the mTLS transport socket for east-west gateway endpoints.
const TLSMatchKey = "causeway.dev/tls"
