package file

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/causeway-dev/causeway/model"
)

func (dp *docParser) checkName(name string) bool {
	if name == "" {
		dp.errorf("metadata.name", "is required")
		return false
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		dp.errorf("metadata.name", "%q is not a valid name: %s", name, strings.Join(errs, "; "))
		return false
	}
	return true
}

func (dp *docParser) checkPort(field string, port int64) bool {
	if port < 1 || port > 65535 {
		dp.errorf(field, "must be 1-65535, got %d", port)
		return false
	}
	return true
}

func (dp *docParser) checkIP(field, addr string) bool {
	if addr == "" {
		dp.errorf(field, "is required")
		return false
	}
	if _, err := netip.ParseAddr(addr); err != nil {
		dp.errorf(field, "%q is not an IP address", addr)
		return false
	}
	return true
}

func (dp *docParser) parseCluster(data []byte) {
	var doc clusterDoc
	if !dp.decodeStrict(data, &doc) {
		return
	}
	ok := dp.checkName(doc.Metadata.Name)
	c := model.Cluster{
		Name:     doc.Metadata.Name,
		Network:  doc.Spec.Network,
		Locality: model.Locality(doc.Spec.Locality),
	}
	for i, g := range doc.Spec.EastWestGateways {
		field := fmt.Sprintf("spec.eastWestGateways[%d]", i)
		ok = dp.checkIP(field+".address", g.Address) && ok
		if g.Port == 0 {
			g.Port = defaultEastWestPort
		}
		ok = dp.checkPort(field+".port", g.Port) && ok
		c.EastWestGateways = append(c.EastWestGateways, model.GatewayAddress{Address: g.Address, Port: uint32(g.Port)})
	}
	if ok {
		dp.accept("Cluster "+c.Name, func(p *parser, _ docRef) {
			p.world.Clusters = append(p.world.Clusters, c)
		})
	}
}

// pendingService waits for every Cluster to be read: its existence check and
// endpoint locality defaults depend on clusters later in the file.
type pendingService struct {
	ref     docRef
	service *serviceBuild
}

// serviceBuild is a valid Service document as the model.Service last
// built from it: a reload reuses the Service while neither the document
// nor its cluster's locality changed. Only the endpoints' localities depend
// on the cluster, so the Service (built first in a cluster without a
// locality) and the endpoints' own localities are all it keeps of the
// document. It belongs to the document's cached docResult, and only the
// parser putting a world together (one goroutine) updates it.
type serviceBuild struct {
	cluster  string         // the cluster the document names
	built    *model.Service // never nil
	locality model.Locality // the locality of built's cluster
	// overrides is each endpoint's own locality (nil for one without);
	// nil when no endpoint has one.
	overrides []*locality
	// given is whether in has returned built, whose endpoints the world
	// (and the snapshots made from it) may since share.
	given bool
}

func newServiceBuild(namespace string, doc serviceDoc) *serviceBuild {
	svc := buildService(namespace, doc, model.Cluster{Name: doc.Spec.Cluster})
	b := &serviceBuild{cluster: doc.Spec.Cluster, built: &svc}
	for i, ep := range doc.Spec.Endpoints {
		if ep.Locality != nil {
			if b.overrides == nil {
				b.overrides = make([]*locality, len(doc.Spec.Endpoints))
			}
			b.overrides[i] = ep.Locality
		}
	}
	return b
}

// in is the Service in cluster c, the cluster the document names: as
// buildService makes it there.
func (b *serviceBuild) in(c model.Cluster) model.Service {
	if b.locality != c.Locality {
		svc := *b.built
		if b.given { // else only b has the endpoints: a first load builds them once
			svc.Endpoints = slices.Clone(svc.Endpoints)
		}
		for i := range svc.Endpoints {
			svc.Endpoints[i].Locality = c.Locality
			if b.overrides != nil && b.overrides[i] != nil {
				svc.Endpoints[i].Locality = overrideLocality(c.Locality, *b.overrides[i])
			}
		}
		b.built, b.locality = &svc, c.Locality
	}
	b.given = true
	return *b.built
}

// adopt makes b's Service the snapshot's copy of it, when that is the
// same: the snapshot keeps its own (interned) copy, and two copies of
// every Service of a large world were a fifth of the heap. Only when the
// snapshot kept the document's endpoint order (it sorts them by address):
// the world lists them in document order, and in indexes overrides so.
func (b *serviceBuild) adopt(snap *model.Snapshot) {
	svc := snap.Service(b.built.Key())
	if !b.given || svc == nil || svc == b.built ||
		!slices.EqualFunc(svc.Endpoints, b.built.Endpoints, func(x, y model.Endpoint) bool { return x.Address == y.Address }) {
		return
	}
	b.built = svc // given stays true: in clones before changing it
}

func (dp *docParser) parseService(data []byte) {
	var doc serviceDoc
	if !dp.decodeStrict(data, &doc) {
		return
	}
	ok := dp.checkName(doc.Metadata.Name)
	if doc.Spec.Cluster == "" {
		dp.errorf("spec.cluster", "is required")
		ok = false
	}
	portNames := map[string]bool{}
	for i, sp := range doc.Spec.Ports {
		field := fmt.Sprintf("spec.ports[%d]", i)
		ok = dp.checkPort(field+".port", sp.Port) && ok
		if sp.TargetPort != 0 {
			ok = dp.checkPort(field+".targetPort", sp.TargetPort) && ok
		}
		if sp.Name != "" && portNames[sp.Name] {
			dp.errorf(field+".name", "duplicate port name %q", sp.Name)
			ok = false
		}
		portNames[sp.Name] = true
	}
	for i, ep := range doc.Spec.Endpoints {
		field := fmt.Sprintf("spec.endpoints[%d]", i)
		ok = dp.checkIP(field+".address", ep.Address) && ok
		for j, port := range ep.Ports {
			ok = dp.checkPort(fmt.Sprintf("%s.ports[%d].port", field, j), port.Port) && ok
		}
	}
	if ok {
		key := fmt.Sprintf("Service %s/%s in cluster %s", dp.ref.namespace, doc.Metadata.Name, doc.Spec.Cluster)
		service := newServiceBuild(dp.ref.namespace, doc)
		dp.service = service
		dp.accept(key, func(p *parser, d docRef) {
			p.services = append(p.services, pendingService{ref: d, service: service})
		})
	}
}

// finishServices checks cluster references and applies defaults that
// depend on the cluster.
func (p *parser) finishServices() {
	clusters := map[string]model.Cluster{}
	for _, c := range p.world.Clusters {
		clusters[c.Name] = c
	}
	if len(p.services) > 0 {
		p.world.Services = make([]model.Service, 0, len(p.services))
	}
	for _, ps := range p.services {
		name := ps.service.cluster
		c, found := clusters[name]
		if !found {
			p.errorf(ps.ref, "spec.cluster", "cluster %q not found", name)
			continue
		}
		p.world.Services = append(p.world.Services, ps.service.in(c))
	}
}

// buildService is the Service of doc in cluster c. Its lists are made to
// size: the cache keeps tens of thousands of them.
func buildService(namespace string, doc serviceDoc, c model.Cluster) model.Service {
	svc := model.Service{
		Cluster:   c.Name,
		Namespace: namespace,
		Name:      doc.Metadata.Name,
		Labels:    doc.Metadata.Labels,
		Ports:     makeNonEmpty[model.ServicePort](len(doc.Spec.Ports)),
		Endpoints: makeNonEmpty[model.Endpoint](len(doc.Spec.Endpoints)),
	}
	for _, sp := range doc.Spec.Ports {
		target := sp.TargetPort
		if target == 0 {
			target = sp.Port
		}
		svc.Ports = append(svc.Ports, model.ServicePort{Name: sp.Name, Port: uint32(sp.Port), TargetPort: uint32(target), Protocol: sp.Protocol, AppProtocol: sp.AppProtocol})
	}
	for _, ep := range doc.Spec.Endpoints {
		out := model.Endpoint{Address: ep.Address, Ready: true, Locality: c.Locality, Labels: ep.Labels}
		if ep.Ready != nil {
			out.Ready = *ep.Ready
		}
		if l := ep.Locality; l != nil {
			out.Locality = overrideLocality(out.Locality, *l)
		}
		if len(ep.Ports) > 0 {
			out.Ports = makeNonEmpty[model.EndpointPort](len(ep.Ports))
		} else {
			out.Ports = makeNonEmpty[model.EndpointPort](len(svc.Ports))
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

// makeNonEmpty is an empty slice with room for n elements, nil when n is
// 0 (as a slice appended to from nil stays).
func makeNonEmpty[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, 0, n)
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

func (dp *docParser) parseGateway(data []byte) {
	var gw model.Gateway
	if !dp.decodeStrict(data, &gw) {
		return
	}
	ok := dp.checkName(gw.Name)
	gw.Namespace = dp.ref.namespace
	for i, l := range gw.Spec.Listeners {
		ok = dp.checkPort(fmt.Sprintf("spec.listeners[%d].port", i), int64(l.Port)) && ok
	}
	if ok {
		dp.accept(fmt.Sprintf("Gateway %s/%s", gw.Namespace, gw.Name), func(p *parser, d docRef) {
			p.world.Gateways = append(p.world.Gateways, &gw)
			p.gateways = append(p.gateways, d)
		})
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

func (dp *docParser) parseHTTPRoute(data []byte) {
	var r model.HTTPRoute
	if !dp.decodeStrict(data, &r) {
		return
	}
	ok := dp.checkName(r.Name)
	r.Namespace = dp.ref.namespace
	if ok {
		dp.route = &r
		dp.accept(fmt.Sprintf("HTTPRoute %s/%s", r.Namespace, r.Name), func(p *parser, _ docRef) {
			p.world.HTTPRoutes = append(p.world.HTTPRoutes, &r)
		})
	}
}

func (dp *docParser) parseReferenceGrant(data []byte) {
	var g model.ReferenceGrant
	if !dp.decodeStrict(data, &g) {
		return
	}
	ok := dp.checkName(g.Name)
	g.Namespace = dp.ref.namespace
	// As the CRD requires: a grant without both sides would allow nothing
	// and is almost certainly a mistake worth pointing at.
	if len(g.Spec.From) == 0 {
		dp.errorf("spec.from", "at least one entry is required")
		ok = false
	}
	if len(g.Spec.To) == 0 {
		dp.errorf("spec.to", "at least one entry is required")
		ok = false
	}
	for i, from := range g.Spec.From {
		if from.Kind == "" || from.Namespace == "" {
			dp.errorf(fmt.Sprintf("spec.from[%d]", i), "kind and namespace are required")
			ok = false
		}
	}
	for i, to := range g.Spec.To {
		if to.Kind == "" {
			dp.errorf(fmt.Sprintf("spec.to[%d].kind", i), "is required")
			ok = false
		}
	}
	if ok {
		dp.accept(fmt.Sprintf("ReferenceGrant %s/%s", g.Namespace, g.Name), func(p *parser, _ docRef) {
			p.world.ReferenceGrants = append(p.world.ReferenceGrants, &g)
		})
	}
}
