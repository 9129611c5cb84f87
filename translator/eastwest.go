package translator

import (
	"fmt"
	"sort"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"

	"github.com/causeway-dev/causeway/model"
)

// DefaultEastWestPort is the east-west listener port when the proxy's
// cluster lists no east-west gateway port.
const DefaultEastWestPort = 15443

// Typed extension names of the east-west listener's filters.
const (
	tlsInspectorName = "envoy.filters.listener.tls_inspector"
	tcpProxyName     = "envoy.filters.network.tcp_proxy"
)

// buildEastWest adds the east-west gateway's mTLS listener and its inbound
// clusters with local endpoints: one filter chain per VirtualDestination
// host×port with a Service in the proxy's cluster, and one per declared
// subset of it (with only the local endpoints the subset selects), picked
// by the SNI a remote gateway sends, forwarding the decrypted stream to
// local endpoints. ExternalService endpoints are never served here: every
// gateway reaches them directly. Peers must present a certificate from
// trustDomain. With no such destination there is no listener (Envoy
// rejects one without filter chains).
//
// Outlier policies do not apply here: the chains proxy TCP, so only the
// gateways (which see HTTP responses) can tell a failing endpoint.
func buildEastWest(w *model.Snapshot, p model.Proxy, trustDomain string, claims *hostPortClaims, r *Resources) {
	var chains []*listenerv3.FilterChain
	vds := w.VirtualDestinations()
	for i := range vds {
		vd := &vds[i]
		chains = eastWestVD(w, p, trustDomain, claims, vd, localServices(claims.selectedServices(w, vd), p.Cluster), chains, r)
	}
	chains = append(chains, federatedEastWestChains(w, p, trustDomain, claims, r)...)
	if len(chains) == 0 {
		return
	}
	sort.Slice(chains, func(i, j int) bool { return chains[i].GetName() < chains[j].GetName() })
	port := eastWestPort(w, p)
	bind := p.BindAddress
	if bind == "" {
		bind = "0.0.0.0"
	}
	r.Listeners = append(r.Listeners, &listenerv3.Listener{
		Name:    fmt.Sprintf("eastwest_%d", port),
		Address: tcpAddress(bind, port),
		ListenerFilters: []*listenerv3.ListenerFilter{{
			Name:       tlsInspectorName,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: typedAny(&tlsinspectorv3.TlsInspector{})},
		}},
		FilterChains: chains,
	})
}

// eastWestVD adds the inbound clusters and load assignments of one
// VirtualDestination for an east-west proxy and appends their filter
// chains; local are the Services it selects in the proxy's cluster.
func eastWestVD(w *model.Snapshot, p model.Proxy, trustDomain string, claims *hostPortClaims, vd *model.VirtualDestination,
	local []*model.Service, chains []*listenerv3.FilterChain, r *Resources) []*listenerv3.FilterChain {
	subsets := subsetsOf(vd, r)
	for pi := range vd.Ports {
		var sets map[string]*endpointSet
		for hi := range vd.Hosts {
			// Claim even without local services so that every proxy
			// agrees which VirtualDestination owns a host:port.
			if !claims.owns(r, vd, pi, hi) || len(local) == 0 {
				continue
			}
			if sets == nil {
				cands := collectCandidates(w, p, vd, pi, local, nil, false, r, nil)
				sets = map[string]*endpointSet{"": endpointSetFor(cands, nil, nil, labelSet{})}
				for si := range subsets {
					sets[subsets[si].Name] = endpointSetFor(cands, &subsets[si], nil, labelSet{})
				}
			}
			base := claims.destination(vd, pi, hi)
			for _, sub := range append([]string{""}, subsetNames(subsets)...) {
				key := base
				key.Subset = sub
				name := key.InboundName()
				r.Clusters = append(r.Clusters, edsCluster(name, p))
				if r.wantsEndpoints(local...) {
					r.addEndpoints(sets[sub].assignment(name, flatPriority))
				}
				chains = append(chains, eastWestChain(key.SNI(), name, trustDomain))
			}
		}
	}
	return chains
}

// eastWestPort is the port of the cluster's east-west gateway entry whose
// address is the proxy's bind address, else of its first entry, else 15443.
func eastWestPort(w *model.Snapshot, p model.Proxy) uint32 {
	cl := w.Cluster(p.Cluster)
	if cl == nil || len(cl.EastWestGateways) == 0 {
		return DefaultEastWestPort
	}
	port := cl.EastWestGateways[0].Port
	for _, gw := range cl.EastWestGateways {
		if gw.Address == p.BindAddress && gw.Port != 0 {
			port = gw.Port
			break
		}
	}
	if port == 0 {
		return DefaultEastWestPort
	}
	return port
}

// eastWestChain terminates mTLS for one SNI and proxies the stream to cluster.
func eastWestChain(sni, cluster, trustDomain string) *listenerv3.FilterChain {
	tcp := &tcpproxyv3.TcpProxy{
		StatPrefix:       cluster,
		ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster},
	}
	return &listenerv3.FilterChain{
		Name:             sni,
		FilterChainMatch: &listenerv3.FilterChainMatch{ServerNames: []string{sni}},
		TransportSocket:  downstreamMTLS(trustDomain),
		Filters: []*listenerv3.Filter{{
			Name:       tcpProxyName,
			ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: typedAny(tcp)},
		}},
	}
}
