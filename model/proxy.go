package model

import (
	"fmt"
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
)

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
}

// Node metadata keys an Envoy bootstrap carries so Causeway can tell its identity.
const (
	NodeMetaRole        = "causeway.role"
	NodeMetaCluster     = "causeway.cluster"
	NodeMetaBindAddress = "causeway.bind_address"
	NodeMetaGateway     = "causeway.gateway"
)

// ClassKey is the cache key of the proxy's class.
func (p Proxy) ClassKey() string {
	return fmt.Sprintf("%s~%s~%s~%s~%s", p.Role, p.Cluster, p.Gateway, p.Locality, p.BindAddress)
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
	case p.Role == RoleGateway && p.Gateway == "":
		return fmt.Errorf("node metadata %s: a gateway proxy names the Gateway it serves, %q, or %q for every Gateway of its cluster",
			NodeMetaGateway, "<namespace>/<name>", AllGateways)
	case p.Role == RoleGateway:
		return validateGatewayRef(p.Gateway)
	case p.Gateway != "":
		return fmt.Errorf("node metadata %s: %q: only a %s proxy serves a Gateway, not a %s proxy", NodeMetaGateway, p.Gateway, RoleGateway, p.Role)
	}
	return nil
}

// ValidateClass checks role and cluster alone: what a proxy's credential
// is issued for (every Gateway's proxies of a cluster share one).
func (p Proxy) ValidateClass() error {
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
