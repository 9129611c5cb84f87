package translator

import (
	"fmt"
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// Federated hostnames: a workspace with Federation gives every selected
// Service of its own, in every cluster, the hostname
// <svc>.<ns>.svc.<cluster>.<hostSuffix> per Service port. Unlike a
// VirtualDestination, which spreads over every cluster, a federated host
// reaches exactly one Service in one cluster: gateways elsewhere go through
// that cluster's east-west gateways (SNI as for any destination), whose
// filter chain forwards to the Service's local endpoints. Off unless a
// workspace asks for it, because it multiplies config by Services×ports.

// federatedHost is one federated hostname and port.
type federatedHost struct {
	key  DestinationKey
	svc  *model.Service
	port model.ServicePort
}

// object names the hostname's source in diagnostics and status messages.
func (fh *federatedHost) object() string {
	return fmt.Sprintf("federated Service %s/%s of cluster %s (Workspace %s)", fh.svc.Namespace, fh.svc.Name, fh.svc.Cluster, fh.key.Workspace)
}

// federatedHostName is <svc>.<ns>.svc.<cluster>.<suffix>.
func federatedHostName(svc *model.Service, suffix string) string {
	return strings.Join([]string{svc.Name, svc.Namespace, "svc", svc.Cluster, suffix}, ".")
}

// federatedHosts lists the federated hostnames of every workspace with
// Federation, in workspace, Service (cluster/namespace/name) and port order.
func federatedHosts(w *model.Snapshot, ws *workspaces) []*federatedHost {
	var out []*federatedHost
	services := w.Services()
	for _, wsp := range ws.list {
		fed := wsp.Federation
		if fed == nil {
			continue
		}
		suffix := fed.HostSuffix
		if suffix == "" {
			suffix = v1alpha1.DefaultFederationHostSuffix
		}
		for i := range services {
			svc := &services[i]
			if owner, ok := ws.ofService(svc); !ok || owner != wsp.Name || !federationSelects(fed, svc) {
				continue
			}
			host := federatedHostName(svc, suffix)
			for _, sp := range svc.Ports {
				out = append(out, &federatedHost{
					key: DestinationKey{Workspace: wsp.Name, Host: host, Port: sp.Port}, svc: svc, port: sp,
				})
			}
		}
	}
	return out
}

// federationSelects reports whether any selector picks svc; no selectors
// pick every Service of the workspace.
func federationSelects(fed *model.Federation, svc *model.Service) bool {
	if len(fed.Selectors) == 0 {
		return true
	}
	for _, sel := range fed.Selectors {
		if sel.Matches(svc) {
			return true
		}
	}
	return false
}

// federatedEndpoints collects fh's ready endpoints as the proxy in cluster
// p.Cluster reaches them: directly when the Service is local, through its
// cluster's east-west gateways otherwise (remote false: local only).
func federatedEndpoints(w *model.Snapshot, p model.Proxy, fh *federatedHost, remote bool) *endpointSet {
	return endpointSetFor(federatedCandidates(w, p, fh, remote, nil), nil, nil, labelSet{})
}

// federatedCandidates are federatedEndpoints' endpoints, one candidate
// each; skipped (when set) hears of the others.
func federatedCandidates(w *model.Snapshot, p model.Proxy, fh *federatedHost, remote bool, skipped skipFunc) []candidate {
	svc := fh.svc
	local := svc.Cluster == p.Cluster
	cl := w.Cluster(svc.Cluster)
	if !local && (!remote || cl == nil || len(cl.EastWestGateways) == 0) {
		if skipped != nil {
			why := skipNoGateway
			if !remote {
				why = skipOtherCluster
			}
			skipAll(svc, why, skipped)
		}
		return nil
	}
	out := make([]candidate, 0, len(svc.Endpoints))
	for i := range svc.Endpoints {
		ep := &svc.Endpoints[i]
		if !readyOrSkip(svc, ep, skipped) {
			continue
		}
		loc := endpointLocality(ep, cl)
		c := candidate{labels: labelSet{cluster: svc.Cluster, locality: loc}, stale: ep.Stale, svc: svc, endpoint: ep.Address}
		if local {
			c.addr, c.port = ep.Address, servicePortTarget(fh.port, ep)
		} else {
			c.gateways = cl.EastWestGateways
		}
		out = append(out, c)
	}
	return out
}

// buildFederatedOutbound adds, for a gateway proxy, one cluster and its
// endpoints per federated hostname and port, and reports once per
// workspace and cluster when a remote cluster's federated Services are
// unreachable for lack of an east-west gateway.
func buildFederatedOutbound(w *model.Snapshot, p model.Proxy, trustDomain string, claims *hostPortClaims, r *Resources) {
	unreachable := map[string]map[string]bool{} // workspace → clusters
	for _, fh := range claims.federated {
		name := fh.key.ClusterName()
		c := edsCluster(name, p)
		c.TransportSocketMatches = []*clusterv3.Cluster_TransportSocketMatch{{
			Name:            mtlsMatchName,
			Match:           mtlsMatch(),
			TransportSocket: upstreamMTLS(fh.key.SNI(), trustDomain),
		}}
		if servicePortHTTP2(fh.port) {
			useHTTP2(c)
		}
		r.Clusters = append(r.Clusters, c)
		if r.wantsEndpoints(fh.svc) {
			r.addEndpoints(federatedEndpoints(w, p, fh, true).assignment(name, flatPriority))
		}
		if cl := w.Cluster(fh.svc.Cluster); fh.svc.Cluster != p.Cluster && (cl == nil || len(cl.EastWestGateways) == 0) && readyCount(fh.svc) > 0 {
			if unreachable[fh.key.Workspace] == nil {
				unreachable[fh.key.Workspace] = map[string]bool{}
			}
			unreachable[fh.key.Workspace][fh.svc.Cluster] = true
		}
	}
	for _, ws := range sortedKeys(unreachable) {
		for _, cl := range sortedKeys(unreachable[ws]) {
			r.report("Workspace "+ws, "spec.federation",
				"cluster %s has no east-west gateway: its federated hostnames have no endpoints from cluster %s", cl, p.Cluster)
		}
	}
}

// federatedEastWestChains adds, for an east-west proxy, the inbound
// cluster (local endpoints) of each federated hostname and port of a
// Service in the proxy's cluster, and returns the filter chains picking
// them by SNI for buildEastWest's listener.
func federatedEastWestChains(w *model.Snapshot, p model.Proxy, trustDomain string, claims *hostPortClaims, r *Resources) []*listenerv3.FilterChain {
	var chains []*listenerv3.FilterChain
	for _, fh := range claims.federated {
		if fh.svc.Cluster != p.Cluster {
			continue
		}
		name := fh.key.InboundName()
		r.Clusters = append(r.Clusters, edsCluster(name, p))
		if r.wantsEndpoints(fh.svc) {
			r.addEndpoints(federatedEndpoints(w, p, fh, false).assignment(name, flatPriority))
		}
		chains = append(chains, eastWestChain(fh.key.SNI(), name, trustDomain))
	}
	return chains
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
