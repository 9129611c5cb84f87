package translator

import (
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/causeway-dev/causeway/model"
)

// buildOutbound adds, for a gateway proxy, one EDS cluster and its endpoints
// per VirtualDestination host and port, and per declared subset of it, then
// the ExternalServices' own clusters (buildExternalOutbound). Endpoints in
// the proxy's cluster and IP endpoints of selected ExternalServices are
// used directly; endpoints elsewhere are reached over mTLS through their
// cluster's east-west gateways, whose certificates must be in trustDomain.
// Policies attached to a VirtualDestination shape its clusters (outlier
// detection) and the priorities of its endpoints (failover). It returns the
// policy index it used.
func buildOutbound(w *model.Snapshot, p model.Proxy, trustDomain string, claims *hostPortClaims, r *Resources) policyIndex {
	policies := indexPolicies(w, p.Locality, r)
	vds := w.VirtualDestinations()
	for i := range vds {
		vd := &vds[i]
		outboundVD(w, p, trustDomain, claims, policies, vd, claims.selectedServices(w, vd), r)
	}
	buildExternalOutbound(w, p, claims, r)
	return policies
}

// outboundVD adds the clusters and load assignments of one
// VirtualDestination for a gateway proxy; services are the Services it
// selects (as claims.selectedServices gives them).
func outboundVD(w *model.Snapshot, p model.Proxy, trustDomain string, claims *hostPortClaims, policies policyIndex,
	vd *model.VirtualDestination, services []*model.Service, r *Resources) {
	externals := selectedExternalServices(w, claims, vd)
	if len(services) == 0 && len(externals) == 0 {
		r.report(vdObject(vd), "spec.services", "selects no Service; its clusters have no endpoints")
	}
	reportUnreachableClusters(w, p, vd, services, r)
	reportExternalDNS(vd, externals, r)
	reportWebSocketOverHTTP2(vd, services, r)
	subsets := subsetsOf(vd, r)
	pol := policies[vd]
	rank := rankingFor(vd, pol, p.Locality)
	proxyLabels := labelSet{cluster: p.Cluster, locality: p.Locality}
	for pi, vp := range vd.Ports {
		var sets map[string]*endpointSet // by subset, shared by every host of this port
		for hi := range vd.Hosts {
			if !claims.owns(r, vd, pi, hi) {
				continue
			}
			if sets == nil {
				cands := collectCandidates(w, p, vd, pi, services, externals, true, r, nil)
				sets = map[string]*endpointSet{"": endpointSetFor(cands, nil, pol.labels, proxyLabels)}
				for si := range subsets {
					sets[subsets[si].Name] = endpointSetFor(cands, &subsets[si], pol.labels, proxyLabels)
				}
			}
			base := claims.destination(vd, pi, hi)
			for _, sub := range append([]string{""}, subsetNames(subsets)...) {
				key := base
				key.Subset = sub
				name := key.ClusterName()
				c := edsCluster(name, p)
				// Always present, so a remote endpoint appearing or leaving
				// changes only EDS, never the cluster (which would drain it).
				c.TransportSocketMatches = []*clusterv3.Cluster_TransportSocketMatch{{
					Name:            mtlsMatchName,
					Match:           mtlsMatch(),
					TransportSocket: upstreamMTLS(key.SNI(), trustDomain),
				}}
				if isHTTP2Protocol(vp.Protocol) {
					useHTTP2(c)
				}
				if pol.outlier != nil {
					applyOutlier(c, pol.outlierConfig)
				}
				r.Clusters = append(r.Clusters, c)
				if r.wantsEndpoints(services...) {
					r.addEndpoints(sets[sub].assignment(name, rank))
				}
			}
		}
	}
}

// rankingFor is how vd's endpoints are ranked for a proxy in locality
// proxy: by its trafficDistribution, or, once PreferClose or a policy turns
// priorities on, by failoverRanking (PreferClose's levels, then the
// policy's locality mapping).
func rankingFor(vd *model.VirtualDestination, pol vdPolicies, proxy model.Locality) ranking {
	if pol.prioritized(vd) {
		return failoverRanking{proxy: proxy, mapping: pol.mapping}
	}
	return priorityFor(vd.TrafficDistribution, proxy)
}

// reportUnreachableClusters reports, once per remote cluster, ready
// endpoints of vd that are dropped because their cluster has no east-west
// gateway to reach them through.
func reportUnreachableClusters(w *model.Snapshot, p model.Proxy, vd *model.VirtualDestination, services []*model.Service, r *Resources) {
	dropped := map[string][]string{}
	for _, svc := range services {
		if svc.Cluster == p.Cluster {
			continue
		}
		if cl := w.Cluster(svc.Cluster); cl != nil && len(cl.EastWestGateways) > 0 {
			continue
		}
		if readyCount(svc) > 0 {
			dropped[svc.Cluster] = append(dropped[svc.Cluster], svc.Namespace+"/"+svc.Name)
		}
	}
	clusters := make([]string, 0, len(dropped))
	for c := range dropped {
		clusters = append(clusters, c)
	}
	sort.Strings(clusters)
	for _, c := range clusters {
		r.report(vdObject(vd), "spec.services",
			"cluster %s has no east-west gateway: endpoints of %s there are not reachable from cluster %s and are left out",
			c, strings.Join(dropped[c], ", "), p.Cluster)
	}
}

func readyCount(svc *model.Service) int {
	n := 0
	for _, ep := range svc.Endpoints {
		if ep.Ready {
			n++
		}
	}
	return n
}

// serviceCluster returns the EDS cluster and endpoints for a Service
// backendRef: svc's ready endpoints in the proxy's own cluster (priority 0,
// grouped by locality), on the Service port numbered port. Named
// ServiceClusterName(ns, name, port).
//
// It returns nil, nil when svc is nil or has no port numbered port: the
// caller reports that backendRef as unresolvable. A Service in another
// cluster yields a cluster without endpoints.
func serviceCluster(w *model.Snapshot, p model.Proxy, svc *model.Service, port uint32) (*clusterv3.Cluster, *endpointv3.ClusterLoadAssignment) {
	if svc == nil {
		return nil, nil
	}
	var sp *model.ServicePort
	for i := range svc.Ports {
		if svc.Ports[i].Port == port {
			sp = &svc.Ports[i]
			break
		}
	}
	if sp == nil {
		return nil, nil
	}
	name := ServiceClusterName(svc.Namespace, svc.Name, port)
	set := serviceEndpointSet(w, p, svc, *sp)
	c := edsCluster(name, p)
	if servicePortHTTP2(*sp) {
		useHTTP2(c)
	}
	return c, set.assignment(name, flatPriority)
}

// serviceEndpointSet is endpointSetFor(serviceCandidates(w, p, svc, sp,
// nil), nil, nil, labelSet{}) without the candidates in between (a large
// gateway builds one per Service backend).
func serviceEndpointSet(w *model.Snapshot, p model.Proxy, svc *model.Service, sp model.ServicePort) *endpointSet {
	set := newEndpointSet()
	if svc.Cluster != p.Cluster {
		return set
	}
	set.localHint = len(svc.Endpoints)
	cl := w.Cluster(svc.Cluster)
	for i := range svc.Endpoints {
		ep := &svc.Endpoints[i]
		if !ep.Ready {
			continue
		}
		set.addLocalRanked(groupKey{locality: endpointLocality(ep, cl), stale: ep.Stale}, ep.Address, servicePortTarget(sp, ep))
	}
	return set
}

// serviceCandidates are the endpoints of serviceCluster's assignment: svc's
// ready endpoints on Service port sp, when svc is in the proxy's cluster.
// skipped (when set) hears of the others.
func serviceCandidates(w *model.Snapshot, p model.Proxy, svc *model.Service, sp model.ServicePort, skipped skipFunc) []candidate {
	if svc.Cluster != p.Cluster {
		if skipped != nil {
			skipAll(svc, skipServiceRefRemote, skipped)
		}
		return nil
	}
	cl := w.Cluster(svc.Cluster)
	out := make([]candidate, 0, len(svc.Endpoints))
	for i := range svc.Endpoints {
		ep := &svc.Endpoints[i]
		if !readyOrSkip(svc, ep, skipped) {
			continue
		}
		loc := endpointLocality(ep, cl)
		out = append(out, candidate{
			labels: labelSet{cluster: svc.Cluster, locality: loc}, stale: ep.Stale,
			addr: ep.Address, port: servicePortTarget(sp, ep), svc: svc, endpoint: ep.Address,
		})
	}
	return out
}
