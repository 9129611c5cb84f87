package model

import "fmt"

// Role is what a proxy does.
type Role string

const (
	// RoleGateway is an ingress gateway serving Gateways and HTTPRoutes.
	RoleGateway Role = "gateway"
	// RoleEastWest is a cluster's east-west gateway: it accepts mTLS from
	// other clusters' proxies and forwards to local endpoints.
	RoleEastWest Role = "eastwest"
)

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
}

// Node metadata keys an Envoy bootstrap carries so Causeway can tell its identity.
const (
	NodeMetaRole        = "causeway.role"
	NodeMetaCluster     = "causeway.cluster"
	NodeMetaBindAddress = "causeway.bind_address"
)

// ClassKey is the cache key of the proxy's class.
func (p Proxy) ClassKey() string {
	return fmt.Sprintf("%s~%s~%s~%s", p.Role, p.Cluster, p.Locality, p.BindAddress)
}

// Validate reports whether the identity is complete.
func (p Proxy) Validate() error {
	switch p.Role {
	case RoleGateway, RoleEastWest:
	default:
		return fmt.Errorf("node metadata %s: role %q is not %q or %q", NodeMetaRole, p.Role, RoleGateway, RoleEastWest)
	}
	if p.Cluster == "" {
		return fmt.Errorf("node metadata %s: cluster is required", NodeMetaCluster)
	}
	return nil
}
