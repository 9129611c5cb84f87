package translator

import (
	"sort"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/causeway-dev/causeway/model"
)

// buildOutbound adds, for a gateway proxy, one EDS cluster and its endpoints
// per VirtualDestination host and port. Endpoints in the proxy's cluster are
// used directly; endpoints elsewhere are reached over mTLS through their
// cluster's east-west gateways, whose certificates must be in trustDomain.
func buildOutbound(w *model.Snapshot, p model.Proxy, trustDomain string, claims *hostPortClaims, r *Resources) {
	vds := w.VirtualDestinations()
	for i := range vds {
		vd := &vds[i]
		services := w.SelectedServices(vd)
		if len(services) == 0 {
			r.report(vdObject(vd), "spec.services", "selects no Service; its clusters have no endpoints")
		}
		reportUnreachableClusters(w, p, vd, services, r)
		prio := priorityFor(vd.TrafficDistribution, p.Locality)
		for pi, vp := range vd.Ports {
			var set *endpointSet // shared by every host of this port
			for hi, host := range vd.Hosts {
				if !claims.owns(r, vd, pi, hi) {
					continue
				}
				if set == nil {
					set = gatherEndpoints(w, p, vd, pi, services, true, r)
				}
				name := OutboundClusterName(host, vp.Number)
				c := edsCluster(name, p)
				// Always present, so a remote endpoint appearing or leaving
				// changes only EDS, never the cluster (which would drain it).
				c.TransportSocketMatches = []*clusterv3.Cluster_TransportSocketMatch{{
					Name:            mtlsMatchName,
					Match:           mtlsMatch(),
					TransportSocket: upstreamMTLS(SNI(host, vp.Number, ""), trustDomain),
				}}
				if isHTTP2Protocol(vp.Protocol) {
					useHTTP2(c)
				}
				r.Clusters = append(r.Clusters, c)
				r.Endpoints = append(r.Endpoints, set.assignment(name, prio))
			}
		}
	}
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
	set := newEndpointSet()
	if svc.Cluster == p.Cluster {
		cl := w.Cluster(svc.Cluster)
		for i := range svc.Endpoints {
			ep := &svc.Endpoints[i]
			if !ep.Ready {
				continue
			}
			loc := ep.Locality
			if loc == (model.Locality{}) && cl != nil {
				loc = cl.Locality
			}
			set.addLocal(loc, ep.Stale, ep.Address, servicePortTarget(*sp, ep))
		}
	}
	c := edsCluster(name, p)
	if isHTTP2Protocol(sp.Protocol) {
		useHTTP2(c)
	}
	return c, set.assignment(name, flatPriority)
}
