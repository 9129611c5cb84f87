package translator

import (
	"fmt"

	"github.com/causeway-dev/causeway/model"
)

func vdObject(vd *model.VirtualDestination) string {
	return "VirtualDestination " + vd.Namespace + "/" + vd.Name
}

// hostPortClaims gives each host:port to the first VirtualDestination (in
// namespace/name order) that lists it, so two VirtualDestinations never
// produce clusters or SNI filter chains with the same name. Gateway and
// east-west proxies walk the same order, so they agree on the winner.
type hostPortClaims map[string]string

// claim reports whether vd owns host:port; the loser gets a Diagnostic.
func (c hostPortClaims) claim(r *Resources, vd *model.VirtualDestination, hostIndex int, port uint32) bool {
	host := vd.Hosts[hostIndex]
	key := fmt.Sprintf("%s:%d", host, port)
	owner := vd.Namespace + "/" + vd.Name
	if prev, ok := c[key]; ok {
		r.report(vdObject(vd), fmt.Sprintf("spec.hosts[%d]", hostIndex),
			"%s port %d is already defined by VirtualDestination %s; ignored here", host, port, prev)
		return false
	}
	c[key] = owner
	return true
}

// gatherEndpoints collects, for port portIndex of vd, the ready endpoints of
// services: those in the proxy's cluster as themselves, the others (when
// remote is true) as counts behind their cluster's east-west gateways.
// Remote clusters without gateways are skipped here; buildOutbound reports
// them once per VirtualDestination.
func gatherEndpoints(w *model.Snapshot, p model.Proxy, vd *model.VirtualDestination, portIndex int,
	services []*model.Service, remote bool, r *Resources) *endpointSet {
	vp := vd.Ports[portIndex]
	set := newEndpointSet()
	for _, svc := range services {
		local := svc.Cluster == p.Cluster
		cl := w.Cluster(svc.Cluster)
		if !local && (!remote || cl == nil || len(cl.EastWestGateways) == 0) {
			continue
		}
		unresolved := false
		for i := range svc.Endpoints {
			ep := &svc.Endpoints[i]
			if !ep.Ready {
				continue
			}
			port, ok := endpointPort(vp, svc, ep)
			if !ok {
				unresolved = true
				continue
			}
			loc := ep.Locality
			if loc == (model.Locality{}) && cl != nil {
				loc = cl.Locality
			}
			if local {
				set.addLocal(loc, ep.Address, port)
			} else {
				set.addRemote(loc, svc.Cluster, cl.EastWestGateways)
			}
		}
		if unresolved {
			r.report(vdObject(vd), fmt.Sprintf("spec.ports[%d].targetPort.name", portIndex),
				"Service %s/%s in cluster %s has no port named %q; its endpoints are not used",
				svc.Namespace, svc.Name, svc.Cluster, vp.TargetPort.Name)
		}
	}
	return set
}

// localServices are the services in cluster.
func localServices(services []*model.Service, cluster string) []*model.Service {
	var out []*model.Service
	for _, s := range services {
		if s.Cluster == cluster {
			out = append(out, s)
		}
	}
	return out
}
