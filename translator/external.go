package translator

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// dnsNamePattern is an RFC 1123 DNS name (no wildcard).
var dnsNamePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// externalAddress classifies an ExternalService endpoint address: an IP,
// a DNS name, or neither (unusable).
func externalAddress(addr string) (ip, dns bool) {
	if _, err := netip.ParseAddr(addr); err == nil {
		return true, false
	}
	return false, len(addr) <= 253 && dnsNamePattern.MatchString(addr)
}

func externalObject(es *model.ExternalService) string {
	return "ExternalService " + es.Namespace + "/" + es.Name
}

// externalLocality is an ExternalService endpoint's locality (none when
// unset: with locality priority on, that ranks as another region).
func externalLocality(ep *v1alpha1.ExternalEndpoint) model.Locality {
	if ep.Locality == nil {
		return model.Locality{}
	}
	return model.Locality{Region: ep.Locality.Region, Zone: ep.Locality.Zone, Subzone: ep.Locality.SubZone}
}

// externalEndpointPort is where ExternalService port sp lands on ep: its
// entry in ep.ports, else sp's number.
func externalEndpointPort(sp v1alpha1.ExternalServicePort, ep *v1alpha1.ExternalEndpoint) uint32 {
	if n, ok := ep.Ports[sp.Name]; ok && n >= 1 && n <= 65535 {
		return uint32(n)
	}
	return uint32(sp.Number)
}

// externalTargetPort is the port on endpoint ep of es that VirtualDestination
// port vp forwards to, with the rules of endpointPort: targetPort.number
// as is; targetPort.name the ExternalService port of that name (false when
// there is none); unset the ExternalService port numbered like vp, else
// vp's own number.
func externalTargetPort(vp model.VirtualDestinationPort, es *model.ExternalService, ep *v1alpha1.ExternalEndpoint) (uint32, bool) {
	if tp := vp.TargetPort; tp != nil && tp.Number != 0 {
		return tp.Number, true
	} else if tp != nil && tp.Name != "" {
		for _, sp := range es.Spec.Ports {
			if sp.Name == tp.Name {
				return externalEndpointPort(sp, ep), true
			}
		}
		return 0, false
	}
	for _, sp := range es.Spec.Ports {
		if uint32(sp.Number) == vp.Number {
			return externalEndpointPort(sp, ep), true
		}
	}
	return vp.Number, true
}

// selectedExternalServices returns the ExternalServices vd's
// spec.externalServices select (labels, name, namespace; empty fields match
// all) that vd's workspace sees. They are outside every cluster, so a
// selector naming a cluster selects none of them.
func selectedExternalServices(w *model.Snapshot, claims *hostPortClaims, vd *model.VirtualDestination) []*model.ExternalService {
	if len(vd.ExternalServices) == 0 {
		return nil
	}
	vdWS, ok := claims.workspaceOf(vd)
	if !ok {
		return nil
	}
	var out []*model.ExternalService
	for _, es := range w.ExternalServices() {
		esWS, ok := claims.workspaceOf(es)
		if !ok || !claims.ws.sees(vdWS, esWS) {
			continue
		}
		for _, sel := range vd.ExternalServices {
			if selectsExternal(sel, es) {
				out = append(out, es)
				break
			}
		}
	}
	return out
}

func selectsExternal(sel model.ServiceSelector, es *model.ExternalService) bool {
	if sel.Cluster != "" || (sel.Namespace != "" && sel.Namespace != es.Namespace) || (sel.Name != "" && sel.Name != es.Name) {
		return false
	}
	for k, v := range sel.Labels {
		if got, ok := es.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// externalCandidates are the IP endpoints of es for port portIndex of vd.
// DNS-named endpoints cannot join an EDS cluster (reportExternalDNS says
// so once per VirtualDestination); unusable addresses are reported by
// buildExternalOutbound.
func externalCandidates(vd *model.VirtualDestination, portIndex int, es *model.ExternalService, r *Resources) []candidate {
	vp := vd.Ports[portIndex]
	var out []candidate
	unresolved := false
	for i := range es.Spec.Endpoints {
		ep := &es.Spec.Endpoints[i]
		if ip, _ := externalAddress(ep.Address); !ip {
			continue
		}
		port, ok := externalTargetPort(vp, es, ep)
		if !ok {
			unresolved = true
			continue
		}
		out = append(out, candidate{
			labels:   labelSet{locality: externalLocality(ep), own: ep.Labels, parent: es.Labels},
			addr:     ep.Address,
			port:     port,
			endpoint: ep.Address,
			external: es,
		})
	}
	if unresolved {
		r.report(vdObject(vd), fmt.Sprintf("spec.ports[%d].targetPort.name", portIndex),
			"%s has no port named %q; its endpoints are not used", externalObject(es), vp.TargetPort.Name)
	}
	return out
}

// reportExternalDNS reports, once per VirtualDestination, the DNS-named
// endpoints of its ExternalServices: EDS carries addresses, not names, so
// they are left out of the VirtualDestination (routing to the
// ExternalService's own host uses them, through a DNS cluster).
func reportExternalDNS(vd *model.VirtualDestination, externals []*model.ExternalService, r *Resources) {
	for _, es := range externals {
		var names []string
		for _, ep := range es.Spec.Endpoints {
			if _, dns := externalAddress(ep.Address); dns {
				names = append(names, ep.Address)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			r.report(vdObject(vd), "spec.externalServices",
				"%s endpoint %q is a DNS name, which a VirtualDestination cannot use (its endpoints go out over EDS as addresses); skipped. Route to the ExternalService's host to use it",
				externalObject(es), n)
		}
	}
}
