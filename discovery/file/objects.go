package file

import (
	"fmt"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/causeway-dev/causeway/model"
)

func (p *parser) checkName(d docRef, name string) bool {
	if name == "" {
		p.errorf(d, "metadata.name", "is required")
		return false
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		p.errorf(d, "metadata.name", "%q is not a valid name: %s", name, strings.Join(errs, "; "))
		return false
	}
	return true
}

func (p *parser) checkPort(d docRef, field string, port int64) bool {
	if port < 1 || port > 65535 {
		p.errorf(d, field, "must be 1-65535, got %d", port)
		return false
	}
	return true
}

func (p *parser) checkIP(d docRef, field, addr string) bool {
	if addr == "" {
		p.errorf(d, field, "is required")
		return false
	}
	if _, err := netip.ParseAddr(addr); err != nil {
		p.errorf(d, field, "%q is not an IP address", addr)
		return false
	}
	return true
}

func (p *parser) parseCluster(d docRef, data []byte) {
	var doc clusterDoc
	if !p.decodeStrict(d, data, &doc) {
		return
	}
	ok := p.checkName(d, doc.Metadata.Name)
	c := model.Cluster{
		Name:     doc.Metadata.Name,
		Network:  doc.Spec.Network,
		Locality: model.Locality(doc.Spec.Locality),
	}
	for i, g := range doc.Spec.EastWestGateways {
		field := fmt.Sprintf("spec.eastWestGateways[%d]", i)
		ok = p.checkIP(d, field+".address", g.Address) && ok
		if g.Port == 0 {
			g.Port = defaultEastWestPort
		}
		ok = p.checkPort(d, field+".port", g.Port) && ok
		c.EastWestGateways = append(c.EastWestGateways, model.GatewayAddress{Address: g.Address, Port: uint32(g.Port)})
	}
	if ok && p.unique(d, "Cluster "+c.Name) {
		p.world.Clusters = append(p.world.Clusters, c)
	}
}

// pendingService waits for every Cluster to be read: its existence check and
// endpoint locality defaults depend on clusters later in the file.
type pendingService struct {
	ref docRef
	doc serviceDoc
}

func (p *parser) parseService(d docRef, data []byte) {
	var doc serviceDoc
	if !p.decodeStrict(d, data, &doc) {
		return
	}
	ok := p.checkName(d, doc.Metadata.Name)
	if doc.Spec.Cluster == "" {
		p.errorf(d, "spec.cluster", "is required")
		ok = false
	}
	portNames := map[string]bool{}
	for i, sp := range doc.Spec.Ports {
		field := fmt.Sprintf("spec.ports[%d]", i)
		ok = p.checkPort(d, field+".port", sp.Port) && ok
		if sp.TargetPort != 0 {
			ok = p.checkPort(d, field+".targetPort", sp.TargetPort) && ok
		}
		if sp.Name != "" && portNames[sp.Name] {
			p.errorf(d, field+".name", "duplicate port name %q", sp.Name)
			ok = false
		}
		portNames[sp.Name] = true
	}
	for i, ep := range doc.Spec.Endpoints {
		field := fmt.Sprintf("spec.endpoints[%d]", i)
		ok = p.checkIP(d, field+".address", ep.Address) && ok
		for j, port := range ep.Ports {
			ok = p.checkPort(d, fmt.Sprintf("%s.ports[%d].port", field, j), port.Port) && ok
		}
	}
	key := fmt.Sprintf("Service %s/%s in cluster %s", d.namespace, doc.Metadata.Name, doc.Spec.Cluster)
	if ok && p.unique(d, key) {
		p.services = append(p.services, pendingService{ref: d, doc: doc})
	}
}

// finishServices checks cluster references and applies defaults that
// depend on the cluster.
func (p *parser) finishServices() {
	clusters := map[string]model.Cluster{}
	for _, c := range p.world.Clusters {
		clusters[c.Name] = c
	}
	for _, ps := range p.services {
		c, found := clusters[ps.doc.Spec.Cluster]
		if !found {
			p.errorf(ps.ref, "spec.cluster", "cluster %q not found", ps.doc.Spec.Cluster)
			continue
		}
		p.world.Services = append(p.world.Services, buildService(ps.ref.namespace, ps.doc, c))
	}
}

func buildService(namespace string, doc serviceDoc, c model.Cluster) model.Service {
	svc := model.Service{
		Cluster:   c.Name,
		Namespace: namespace,
		Name:      doc.Metadata.Name,
		Labels:    doc.Metadata.Labels,
	}
	for _, sp := range doc.Spec.Ports {
		target := sp.TargetPort
		if target == 0 {
			target = sp.Port
		}
		svc.Ports = append(svc.Ports, model.ServicePort{Name: sp.Name, Port: uint32(sp.Port), TargetPort: uint32(target), Protocol: sp.Protocol})
	}
	for _, ep := range doc.Spec.Endpoints {
		out := model.Endpoint{Address: ep.Address, Ready: true, Locality: c.Locality, Labels: ep.Labels}
		if ep.Ready != nil {
			out.Ready = *ep.Ready
		}
		if l := ep.Locality; l != nil {
			out.Locality = overrideLocality(out.Locality, *l)
		}
		for _, port := range ep.Ports {
			out.Ports = append(out.Ports, model.EndpointPort{Name: port.Name, Port: uint32(port.Port)})
		}
		if len(ep.Ports) == 0 {
			for _, sp := range svc.Ports {
				out.Ports = append(out.Ports, model.EndpointPort{Name: sp.Name, Port: sp.TargetPort})
			}
		}
		svc.Endpoints = append(svc.Endpoints, out)
	}
	return svc
}

func overrideLocality(base model.Locality, l locality) model.Locality {
	if l.Region != "" {
		base.Region = l.Region
	}
	if l.Zone != "" {
		base.Zone = l.Zone
	}
	if l.Subzone != "" {
		base.Subzone = l.Subzone
	}
	return base
}

func (p *parser) parseGateway(d docRef, data []byte) {
	var gw model.Gateway
	if !p.decodeStrict(d, data, &gw) {
		return
	}
	ok := p.checkName(d, gw.Name)
	gw.Namespace = d.namespace
	for i, l := range gw.Spec.Listeners {
		ok = p.checkPort(d, fmt.Sprintf("spec.listeners[%d].port", i), int64(l.Port)) && ok
	}
	if ok && p.unique(d, fmt.Sprintf("Gateway %s/%s", gw.Namespace, gw.Name)) {
		p.world.Gateways = append(p.world.Gateways, &gw)
		p.gateways = append(p.gateways, d)
	}
}

// checkGatewayClusters checks that the cluster a Gateway is pinned to exists.
func (p *parser) checkGatewayClusters() {
	clusters := map[string]bool{}
	for _, c := range p.world.Clusters {
		clusters[c.Name] = true
	}
	for i, gw := range p.world.Gateways {
		if name, pinned := gw.Annotations[model.ClusterAnnotation]; pinned && !clusters[name] {
			p.errorf(p.gateways[i], "metadata.annotations["+model.ClusterAnnotation+"]", "cluster %q not found", name)
		}
	}
}

func (p *parser) parseHTTPRoute(d docRef, data []byte) {
	var r model.HTTPRoute
	if !p.decodeStrict(d, data, &r) {
		return
	}
	ok := p.checkName(d, r.Name)
	r.Namespace = d.namespace
	if ok && p.unique(d, fmt.Sprintf("HTTPRoute %s/%s", r.Namespace, r.Name)) {
		p.world.HTTPRoutes = append(p.world.HTTPRoutes, &r)
	}
}

func (p *parser) parseReferenceGrant(d docRef, data []byte) {
	var g model.ReferenceGrant
	if !p.decodeStrict(d, data, &g) {
		return
	}
	ok := p.checkName(d, g.Name)
	g.Namespace = d.namespace
	// As the CRD requires: a grant without both sides would allow nothing
	// and is almost certainly a mistake worth pointing at.
	if len(g.Spec.From) == 0 {
		p.errorf(d, "spec.from", "at least one entry is required")
		ok = false
	}
	if len(g.Spec.To) == 0 {
		p.errorf(d, "spec.to", "at least one entry is required")
		ok = false
	}
	for i, from := range g.Spec.From {
		if from.Kind == "" || from.Namespace == "" {
			p.errorf(d, fmt.Sprintf("spec.from[%d]", i), "kind and namespace are required")
			ok = false
		}
	}
	for i, to := range g.Spec.To {
		if to.Kind == "" {
			p.errorf(d, fmt.Sprintf("spec.to[%d].kind", i), "is required")
			ok = false
		}
	}
	if ok && p.unique(d, fmt.Sprintf("ReferenceGrant %s/%s", g.Namespace, g.Name)) {
		p.world.ReferenceGrants = append(p.world.ReferenceGrants, &g)
	}
}
