package model

import (
	"fmt"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Role is what a proxy does.
type Role string

const (
	// RoleGateway is an ingress gateway serving Gateways and HTTPRoutes.
	RoleGateway Role = "gateway"
	// RoleEastWest is a cluster's east-west gateway: it accepts mTLS from
	// other clusters' proxies and forwards to local endpoints.
	RoleEastWest Role = "eastwest"
	// RoleClient is a node-local (or namespace-local) proxy for in-cluster
	// clients: it serves VirtualDestination and federated hostnames on its
	// bind address and answers DNS for them.
	RoleClient Role = "client"
)

// DefaultDNSPort is the UDP port a client proxy answers DNS on when its
// node metadata does not say.
const DefaultDNSPort = 15053

// AllGateways is the Proxy.Gateway of a gateway proxy serving every Gateway
// of its cluster: the listeners of all those Gateways on one port are then
// shared, so routes attached to one answer on the others.
const AllGateways = "*"

// Proxy is the identity of an Envoy asking for configuration. Proxies with
// equal identities share one snapshot (a proxy class).
type Proxy struct {
	Role     Role
	Cluster  string
	Locality Locality
	// BindAddress is the local address the proxy's listeners bind to and its
	// upstream connections originate from. Empty means 0.0.0.0 and the
	// kernel's choice of source address.
	BindAddress string
	// Gateway is the Gateway a gateway proxy serves, "<namespace>/<name>",
	// or AllGateways. Validate requires it of a gateway proxy; the
	// translator reads an empty one as AllGateways (tests and benchmarks
	// that build a Proxy by hand).
	Gateway string
	// Namespace is, for a client proxy, the namespace whose clients it
	// serves: it sees what that namespace's Workspace sees. Only a client
	// proxy has one; it may be empty in a world without Workspaces.
	Namespace string
	// DNSPort is the UDP port a client proxy answers DNS on (0 means
	// DefaultDNSPort). Only a client proxy has one.
	DNSPort uint32
}

// Node metadata keys an Envoy bootstrap carries so Causeway can tell its identity.
const (
	NodeMetaRole        = "causeway.role"
	NodeMetaCluster     = "causeway.cluster"
	NodeMetaBindAddress = "causeway.bind_address"
	NodeMetaGateway     = "causeway.gateway"
	NodeMetaNamespace   = "causeway.namespace"
	NodeMetaDNSPort     = "causeway.dns_port"
)

// ClassKey is the cache key of the proxy's class. A client proxy's also
// names its namespace and DNS port; the other roles' keys are what they
// always were.
func (p Proxy) ClassKey() string {
	key := fmt.Sprintf("%s~%s~%s~%s~%s", p.Role, p.Cluster, p.Gateway, p.Locality, p.BindAddress)
	if p.Role == RoleClient {
		key += fmt.Sprintf("~%s~%d", p.Namespace, p.DNSPortOrDefault())
	}
	return key
}

// DNSPortOrDefault is the port a client proxy answers DNS on.
func (p Proxy) DNSPortOrDefault() uint32 {
	if p.DNSPort == 0 {
		return DefaultDNSPort
	}
	return p.DNSPort
}

// ServesGateway reports whether the proxy is one of namespace/name's (or
// serves every Gateway); whether its cluster serves that Gateway is the
// translator's business.
func (p Proxy) ServesGateway(namespace, name string) bool {
	return p.Gateway == "" || p.Gateway == AllGateways || p.Gateway == namespace+"/"+name
}

// Validate reports whether the identity is complete.
func (p Proxy) Validate() error {
	if err := p.ValidateClass(); err != nil {
		return err
	}
	switch {
	case p.Role != RoleClient && p.Namespace != "":
		return fmt.Errorf("node metadata %s: %q: only a %s proxy serves a namespace, not a %s proxy", NodeMetaNamespace, clipRef(p.Namespace), RoleClient, p.Role)
	case p.Role != RoleClient && p.DNSPort != 0:
		return fmt.Errorf("node metadata %s: %d: only a %s proxy answers DNS, not a %s proxy", NodeMetaDNSPort, p.DNSPort, RoleClient, p.Role)
	case p.Role == RoleGateway && p.Gateway == "":
		return fmt.Errorf("node metadata %s: a gateway proxy names the Gateway it serves, %q, or %q for every Gateway of its cluster",
			NodeMetaGateway, "<namespace>/<name>", AllGateways)
	case p.Role == RoleGateway:
		return validateGatewayRef(p.Gateway)
	case p.Gateway != "":
		return fmt.Errorf("node metadata %s: %q: only a %s proxy serves a Gateway, not a %s proxy", NodeMetaGateway, p.Gateway, RoleGateway, p.Role)
	case p.Role == RoleClient:
		return p.validateClient()
	}
	return nil
}

// validateClient checks what a client proxy needs beyond role and
// cluster: an IP address to bind to (its DNS answers it, so it must be one
// clients can reach: not 0.0.0.0 or ::), a valid namespace if any, and a
// DNS port in range.
func (p Proxy) validateClient() error {
	if p.BindAddress == "" {
		return fmt.Errorf("node metadata %s: a %s proxy needs the address its listeners bind to and its DNS answers", NodeMetaBindAddress, RoleClient)
	}
	addr, err := netip.ParseAddr(p.BindAddress)
	if err != nil || addr.IsUnspecified() || addr.Zone() != "" {
		return fmt.Errorf("node metadata %s: %q: a %s proxy needs an IP address clients can reach (not a name, 0.0.0.0 or ::)",
			NodeMetaBindAddress, clipRef(p.BindAddress), RoleClient)
	}
	if p.Namespace != "" && len(validation.IsDNS1123Label(p.Namespace)) > 0 {
		return fmt.Errorf("node metadata %s: %q is not a namespace name", NodeMetaNamespace, clipRef(p.Namespace))
	}
	if p.DNSPort > 65535 {
		return fmt.Errorf("node metadata %s: port %d is out of range 1-65535", NodeMetaDNSPort, p.DNSPort)
	}
	return nil
}

// ValidateClass checks role and cluster alone: what a proxy's credential
// is issued for (every Gateway's proxies of a cluster share one).
func (p Proxy) ValidateClass() error {
	switch p.Role {
	case RoleGateway, RoleEastWest, RoleClient:
	default:
		return fmt.Errorf("node metadata %s: role %q is not %q, %q or %q", NodeMetaRole, p.Role, RoleGateway, RoleEastWest, RoleClient)
	}
	if p.Cluster == "" {
		return fmt.Errorf("node metadata %s: cluster is required", NodeMetaCluster)
	}
	return nil
}

// validateGatewayRef checks a Gateway reference: AllGateways, or a
// namespace (a DNS label) and a name (a DNS subdomain) joined by "/".
func validateGatewayRef(ref string) error {
	if ref == AllGateways {
		return nil
	}
	ns, name, ok := strings.Cut(ref, "/")
	bad := !ok || len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0
	if bad {
		return fmt.Errorf("node metadata %s: %q: want %q or %q", NodeMetaGateway, clipRef(ref), "<namespace>/<name>", AllGateways)
	}
	return nil
}

// clipRef bounds what a malformed reference from a proxy puts in an error.
func clipRef(s string) string {
	const max = 300
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
