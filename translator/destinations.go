package translator

import (
	"fmt"

	"github.com/causeway-dev/causeway/model"
)

func vdObject(vd *model.VirtualDestination) string {
	return "VirtualDestination " + vd.Namespace + "/" + vd.Name
}

// hostPortClaims gives each host:port to the first VirtualDestination (in
// namespace/name order, then port and host order) that lists it, so two
// VirtualDestinations never produce clusters or SNI filter chains with the
// same name. It is decided once per snapshot, so gateway proxies, east-west
// proxies, backendRef resolution and status all agree on the winner.
type hostPortClaims struct {
	// lost maps a losing (VirtualDestination, port, host) to the winner's
	// "namespace/name".
	lost map[claimKey]string
	// outbound holds OutboundClusterName of every claimed host:port: the
	// VirtualDestination clusters every gateway proxy gets.
	outbound map[string]bool
}

type claimKey struct {
	vd         *model.VirtualDestination
	port, host int
}

func claimHostPorts(w *model.Snapshot) *hostPortClaims {
	c := &hostPortClaims{lost: map[claimKey]string{}, outbound: map[string]bool{}}
	owners := map[string]string{}
	vds := w.VirtualDestinations()
	for i := range vds {
		vd := &vds[i]
		for pi, vp := range vd.Ports {
			for hi, host := range vd.Hosts {
				key := fmt.Sprintf("%s:%d", host, vp.Number)
				if prev, ok := owners[key]; ok {
					c.lost[claimKey{vd, pi, hi}] = prev
					continue
				}
				owners[key] = vd.Namespace + "/" + vd.Name
				c.outbound[OutboundClusterName(host, vp.Number)] = true
			}
		}
	}
	return c
}

// owns reports whether vd owns its host hostIndex on port portIndex; the
// loser gets a Diagnostic on r.
func (c *hostPortClaims) owns(r *Resources, vd *model.VirtualDestination, portIndex, hostIndex int) bool {
	prev, lost := c.lost[claimKey{vd, portIndex, hostIndex}]
	if lost {
		r.report(vdObject(vd), fmt.Sprintf("spec.hosts[%d]", hostIndex), "%s", claimLostMessage(vd, portIndex, hostIndex, prev))
	}
	return !lost
}

func claimLostMessage(vd *model.VirtualDestination, portIndex, hostIndex int, winner string) string {
	return fmt.Sprintf("%s port %d is already defined by VirtualDestination %s; ignored here",
		vd.Hosts[hostIndex], vd.Ports[portIndex].Number, winner)
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
				set.addLocal(loc, ep.Stale, ep.Address, port)
			} else {
				set.addRemote(loc, ep.Stale, svc.Cluster, cl.EastWestGateways)
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
