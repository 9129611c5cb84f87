package model

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
)

// GatewayParameters is what a GatewayClass spec.parametersRef names: how
// Causeway provisions the gateway proxies of the class's Gateways.
type GatewayParameters = v1alpha1.GatewayParameters

// Labels on the objects Causeway provisions for a Gateway in a workload
// cluster (Deployment, Service, ServiceAccount, ConfigMap). Discovery reads
// them on Services to find each Gateway's addresses.
const (
	GatewayNameLabel      = "causeway.dev/gateway-name"
	GatewayNamespaceLabel = "causeway.dev/gateway-namespace"
)

// GatewayServiceAddress is one address of the Service provisioned for a
// Gateway in a workload cluster: a load-balancer ingress IP or hostname,
// else the cluster IP.
type GatewayServiceAddress struct {
	// Gateway is "<namespace>/<name>", from the Service's labels.
	Gateway string
	Type    gwv1.AddressType
	Value   string
}

// provisioning is the part of a Snapshot about provisioned gateway proxies.
type provisioning struct {
	gatewayParameters []*GatewayParameters
	// provisioned: Causeway deploys the gateway proxies (Kubernetes mode
	// with provisioning on), so a Gateway without an address is not ready.
	provisioned bool
}

func newProvisioning(w World) provisioning {
	p := provisioning{provisioned: w.Provisioning}
	for _, gp := range w.GatewayParameters {
		p.gatewayParameters = append(p.gatewayParameters, gp.DeepCopy())
	}
	sortByNamespacedName(p.gatewayParameters)
	return p
}

// GatewayParametersList returns the GatewayParameters sorted by namespace
// and name.
func (s *Snapshot) GatewayParametersList() []*GatewayParameters { return s.prov.gatewayParameters }

// GatewayParameters returns the named GatewayParameters or nil.
func (s *Snapshot) GatewayParameters(namespace, name string) *GatewayParameters {
	key := namespace + "/" + name
	i, ok := slices.BinarySearchFunc(s.prov.gatewayParameters, key, func(gp *GatewayParameters, k string) int {
		return strings.Compare(gp.Namespace+"/"+gp.Name, k)
	})
	if !ok {
		return nil
	}
	return s.prov.gatewayParameters[i]
}

// Provisioning reports whether Causeway provisions the gateway proxies
// (Kubernetes mode with provisioning on).
func (s *Snapshot) Provisioning() bool { return s.prov.provisioned }

// GatewayAddresses returns the addresses of the Services provisioned for
// the Gateway namespace/name in every cluster, in cluster order, without
// duplicates.
func (s *Snapshot) GatewayAddresses(namespace, name string) []gwv1.GatewayStatusAddress {
	key := namespace + "/" + name
	var out []gwv1.GatewayStatusAddress
	for i := range s.clusters {
		for _, a := range s.clusters[i].GatewayServiceAddresses {
			if a.Gateway != key {
				continue
			}
			t := a.Type
			addr := gwv1.GatewayStatusAddress{Type: &t, Value: a.Value}
			if !slices.ContainsFunc(out, func(o gwv1.GatewayStatusAddress) bool { return *o.Type == t && o.Value == a.Value }) {
				out = append(out, addr)
			}
		}
	}
	return out
}

// ProvisionedName is the name of every object provisioned for the Gateway
// namespace/name, its ServiceAccount included: readable, a DNS label
// (Services need one), unique per Gateway thanks to the hash of
// namespace/name. The xDS server accepts that ServiceAccount's token for a
// gateway proxy of that Gateway only.
func ProvisionedName(namespace, name string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name))
	base := strings.ReplaceAll("causeway-gw-"+namespace+"-"+name, ".", "-")
	const max = 63 - 9 // a DNS label, less "-" and 8 hex digits
	if len(base) > max {
		base = strings.TrimRight(base[:max], "-")
	}
	return base + "-" + hex.EncodeToString(sum[:4])
}
