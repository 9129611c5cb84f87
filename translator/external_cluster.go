package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"

	"github.com/causeway-dev/causeway/model"
)

// buildExternalOutbound adds, for a gateway proxy, one cluster per
// ExternalService host and port it owns, for Hostname backendRefs naming
// that host: plain (no mTLS: the service is outside the mesh) and never
// through an east-west gateway. With only IP endpoints it is an EDS
// cluster like every other; when any endpoint is a DNS name it is a
// STRICT_DNS cluster with its endpoints inline (EDS carries addresses,
// not names), resolving IPv4 only so a name with AAAA records does not
// leave the proxy trying addresses the host may not route.
//
// It also reports the ExternalService fields that make a port or an
// endpoint unusable; those are left out.
func buildExternalOutbound(w *model.Snapshot, p model.Proxy, claims *hostPortClaims, r *Resources) {
	for _, es := range w.ExternalServices() {
		ws, ok := claims.workspaceOf(es)
		if !ok {
			continue
		}
		dnsNamed := checkExternalService(es, r)
		for pi, sp := range es.Spec.Ports {
			if sp.Number < 1 || sp.Number > 65535 {
				continue
			}
			var set *endpointSet
			for hi, host := range es.Spec.Hosts {
				if !claims.ownsExternal(r, es, pi, hi) {
					continue
				}
				if set == nil {
					set = newEndpointSet()
					for i := range es.Spec.Endpoints {
						ep := &es.Spec.Endpoints[i]
						if ip, dns := externalAddress(ep.Address); ip || dns {
							set.addLocal(externalLocality(ep), false, ep.Address, externalEndpointPort(sp, ep))
						}
					}
				}
				name := DestinationKey{Workspace: ws, Host: host, Port: uint32(sp.Number)}.ClusterName()
				c := edsCluster(name, p)
				cla := set.assignment(name, flatPriority)
				if dnsNamed {
					c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STRICT_DNS}
					c.EdsClusterConfig = nil
					c.DnsLookupFamily = clusterv3.Cluster_V4_ONLY
					c.LoadAssignment = cla
				} else {
					r.Endpoints = append(r.Endpoints, cla)
				}
				if isHTTP2Protocol(sp.Protocol) {
					useHTTP2(c)
				}
				r.Clusters = append(r.Clusters, c)
			}
		}
	}
}

// checkExternalService reports on r the parts of es a proxy cannot use
// (world files are not validated by an API server): ports out of range,
// addresses that are neither IP nor DNS name, endpoint ports naming no
// port or out of range. dnsNamed: some endpoint is named by DNS.
func checkExternalService(es *model.ExternalService, r *Resources) (dnsNamed bool) {
	obj := externalObject(es)
	portNames := map[string]bool{}
	for pi, sp := range es.Spec.Ports {
		portNames[sp.Name] = true
		if sp.Number < 1 || sp.Number > 65535 {
			r.report(obj, fieldf("spec.ports[%d].number", pi), "port %d is outside 1..65535; port ignored", sp.Number)
		}
	}
	for ei, ep := range es.Spec.Endpoints {
		ip, dns := externalAddress(ep.Address)
		if !ip && !dns {
			r.report(obj, fieldf("spec.endpoints[%d].address", ei), "%q is neither an IP address nor a DNS name; endpoint ignored", ep.Address)
		}
		dnsNamed = dnsNamed || dns
		for _, name := range sortedKeys(ep.Ports) {
			n := ep.Ports[name]
			switch {
			case !portNames[name]:
				r.report(obj, fieldf("spec.endpoints[%d].ports.%s", ei, name), "no port named %q in spec.ports; ignored", name)
			case n < 1 || n > 65535:
				r.report(obj, fieldf("spec.endpoints[%d].ports.%s", ei, name), "port %d is outside 1..65535; the spec.ports number is used", n)
			}
		}
	}
	return dnsNamed
}
