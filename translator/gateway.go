package translator

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// buildGateway adds listeners and route configurations for the Gateways and
// HTTPRoutes this gateway proxy serves: one listener "gateway_<port>" per
// distinct HTTP listener port, with a route configuration of the same name
// holding one virtual host per hostname.
func buildGateway(w *model.Snapshot, p model.Proxy, r *Resources) {
	b := &gatewayBuilder{
		w: w, p: p, r: r,
		otherClusters:       map[string]bool{},
		serviceClusters:     map[string]*builtCluster{},
		usedServiceClusters: map[string]bool{},
		entries:             map[*model.HTTPRoute][]*routeEntry{},
	}
	for _, c := range r.Clusters {
		b.otherClusters[c.GetName()] = true
	}
	ports := b.listenersByPort()
	attached := b.attachRoutes(ports)
	for _, port := range slices.Sorted(maps.Keys(ports)) {
		r.Listeners = append(r.Listeners, gatewayListener(p.BindAddress, port))
		r.Routes = append(r.Routes, gatewayRouteConfig(port, b.virtualHosts(port, attached[port])))
	}
	for _, name := range slices.Sorted(maps.Keys(b.usedServiceClusters)) {
		bc := b.serviceClusters[name]
		r.Clusters = append(r.Clusters, bc.cluster)
		if bc.endpoints != nil {
			r.Endpoints = append(r.Endpoints, bc.endpoints)
		}
	}
}

type gatewayBuilder struct {
	w *model.Snapshot
	p model.Proxy
	r *Resources
	// otherClusters are cluster names other builders already made.
	otherClusters map[string]bool
	// serviceClusters caches serviceCluster results by name (nil: failed).
	serviceClusters     map[string]*builtCluster
	usedServiceClusters map[string]bool
	// entries caches each HTTPRoute's translated rules, so that a route
	// attached to several ports or hostnames is resolved (and diagnosed) once.
	entries map[*model.HTTPRoute][]*routeEntry
}

// gwListener is one usable HTTP listener of a served Gateway.
type gwListener struct {
	gw       *model.Gateway
	listener gwv1.Listener
	hostname string // lower case; "" matches any host
}

// attachment is an HTTPRoute attached to a port with the hostnames it
// serves there.
type attachment struct {
	route     *model.HTTPRoute
	hostnames []string
}

// serves reports whether gateway proxies of this proxy's cluster serve gw.
func (b *gatewayBuilder) serves(gw *model.Gateway) bool {
	c := gw.Annotations[model.ClusterAnnotation]
	return c == "" || c == b.p.Cluster
}

// listenersByPort collects the HTTP listeners of served Gateways by port.
// Listeners of several Gateways on one port share one Envoy listener.
func (b *gatewayBuilder) listenersByPort() map[uint32][]gwListener {
	ports := map[uint32][]gwListener{}
	for _, gw := range b.w.Gateways() {
		if !b.serves(gw) {
			continue
		}
		obj := "Gateway " + gw.Namespace + "/" + gw.Name
		for i, l := range gw.Spec.Listeners {
			field := fmt.Sprintf("spec.listeners[%d]", i)
			if l.Protocol != gwv1.HTTPProtocolType {
				b.r.report(obj, field+".protocol", "protocol %q is not supported (only HTTP); listener ignored", l.Protocol)
				continue
			}
			if l.Port < 1 || l.Port > 65535 {
				b.r.report(obj, field+".port", "port %d is out of range; listener ignored", l.Port)
				continue
			}
			var host string
			if l.Hostname != nil && *l.Hostname != anyHost {
				host = strings.ToLower(string(*l.Hostname))
				if !validHostname(host) {
					b.r.report(obj, field+".hostname", "hostname %q is not a valid hostname; listener ignored", *l.Hostname)
					continue
				}
			}
			if ar := l.AllowedRoutes; ar != nil && ar.Namespaces != nil && ar.Namespaces.From != nil &&
				*ar.Namespaces.From == gwv1.NamespacesFromSelector {
				b.r.report(obj, field+".allowedRoutes.namespaces.from", "Selector is not supported; only routes in namespace %s attach", gw.Namespace)
			}
			port := uint32(l.Port)
			ports[port] = append(ports[port], gwListener{gw: gw, listener: l, hostname: host})
		}
	}
	return ports
}

// allows reports whether l accepts HTTPRoutes from namespace ns. Without
// allowedRoutes only the Gateway's own namespace may attach.
func (l gwListener) allows(ns string) bool {
	ar := l.listener.AllowedRoutes
	if ar != nil && len(ar.Kinds) > 0 && !slices.ContainsFunc(ar.Kinds, func(k gwv1.RouteGroupKind) bool {
		return k.Kind == "HTTPRoute" && (k.Group == nil || *k.Group == gwv1.GroupName)
	}) {
		return false
	}
	if ar != nil && ar.Namespaces != nil && ar.Namespaces.From != nil && *ar.Namespaces.From == gwv1.NamespacesFromAll {
		return true
	}
	return ns == l.gw.Namespace
}

// attachRoutes finds, per port, the HTTPRoutes whose parentRefs select a
// listener on it, and the hostnames each serves there. Routes keep the
// snapshot's namespace/name order.
func (b *gatewayBuilder) attachRoutes(ports map[uint32][]gwListener) map[uint32][]attachment {
	out := map[uint32][]attachment{}
	for _, route := range b.w.HTTPRoutes() {
		obj := "HTTPRoute " + route.Namespace + "/" + route.Name
		hosts, hostsSet := b.routeHostnames(route)
		perPort := map[uint32][]string{}
		for j, ref := range route.Spec.ParentRefs {
			field := fmt.Sprintf("spec.parentRefs[%d]", j)
			if (ref.Group != nil && *ref.Group != gwv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway") {
				b.r.report(obj, field, "parent %s/%s is not a Gateway of %s; ignored", refString(ref.Group), refString(ref.Kind), gwv1.GroupName)
				continue
			}
			ns := route.Namespace
			if ref.Namespace != nil && *ref.Namespace != "" {
				ns = string(*ref.Namespace)
			}
			gw := b.gateway(ns, string(ref.Name))
			if gw == nil {
				b.r.report(obj, field, "Gateway %s/%s not found", ns, ref.Name)
				continue
			}
			if !b.serves(gw) {
				continue
			}
			var reasons []string
			attachedAny := false
			for _, port := range slices.Sorted(maps.Keys(ports)) {
				for _, l := range ports[port] {
					switch {
					case l.gw != gw:
					case ref.SectionName != nil && *ref.SectionName != l.listener.Name:
					case ref.Port != nil && *ref.Port != l.listener.Port:
					case !l.allows(route.Namespace):
						reasons = append(reasons, fmt.Sprintf("listener %q does not allow routes from namespace %s", l.listener.Name, route.Namespace))
					default:
						hs := intersectHostnames(l.hostname, hosts, hostsSet)
						if len(hs) == 0 {
							reasons = append(reasons, fmt.Sprintf("no hostname intersects listener %q hostname %q", l.listener.Name, l.hostname))
							continue
						}
						perPort[port] = append(perPort[port], hs...)
						attachedAny = true
					}
				}
			}
			if !attachedAny {
				if len(reasons) == 0 {
					reasons = append(reasons, "no HTTP listener matches sectionName/port")
				}
				b.r.report(obj, field, "not attached to Gateway %s/%s: %s", ns, gw.Name, strings.Join(reasons, "; "))
			}
		}
		for port, hs := range perPort {
			out[port] = append(out[port], attachment{route: route, hostnames: sortedUnique(hs)})
		}
	}
	return out
}

func refString[T ~string](s *T) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

func (b *gatewayBuilder) gateway(ns, name string) *model.Gateway {
	for _, gw := range b.w.Gateways() {
		if gw.Namespace == ns && gw.Name == name {
			return gw
		}
	}
	return nil
}

// routeHostnames returns the route's valid hostnames, lower case, and
// whether it named any. A route whose hostnames are all invalid still
// counts as naming some, so it attaches nowhere instead of everywhere.
func (b *gatewayBuilder) routeHostnames(route *model.HTTPRoute) ([]string, bool) {
	var hosts []string
	for k, h := range route.Spec.Hostnames {
		lh := strings.ToLower(string(h))
		if !validHostname(lh) {
			b.r.report("HTTPRoute "+route.Namespace+"/"+route.Name, fmt.Sprintf("spec.hostnames[%d]", k), "hostname %q is not a valid hostname; ignored", h)
			continue
		}
		hosts = append(hosts, lh)
	}
	return hosts, len(route.Spec.Hostnames) > 0
}

// virtualHosts builds one virtual host per hostname served on the port.
// A request for a host also falls through to the rules of routes with a
// less specific hostname covering it (a wildcard, or no hostname at all),
// after the more specific ones, as the Gateway API orders them.
func (b *gatewayBuilder) virtualHosts(port uint32, attached []attachment) []*routev3.VirtualHost {
	var hosts []string
	for _, a := range attached {
		hosts = append(hosts, a.hostnames...)
	}
	rc := GatewayListenerName(port)
	var out []*routev3.VirtualHost
	for _, h := range sortedUnique(hosts) {
		type ranked struct {
			e    *routeEntry
			spec hostSpecificity
		}
		var entries []ranked
		for _, a := range attached {
			best, found := hostSpecificity{}, false
			for _, g := range a.hostnames {
				if s := specificityOf(g); hostCovers(g, h) && (!found || s.moreSpecific(best)) {
					best, found = s, true
				}
			}
			if !found {
				continue
			}
			for _, e := range b.routeEntries(a.route) {
				entries = append(entries, ranked{e, best})
			}
		}
		slices.SortStableFunc(entries, func(x, y ranked) int {
			switch {
			case x.spec.moreSpecific(y.spec):
				return -1
			case y.spec.moreSpecific(x.spec):
				return 1
			case x.e.precedes(y.e):
				return -1
			case y.e.precedes(x.e):
				return 1
			}
			return 0
		})
		vh := &routev3.VirtualHost{Name: gatewayVirtualHostName(rc, h), Domains: []string{h}}
		for _, x := range entries {
			vh.Routes = append(vh.Routes, proto.Clone(x.e.envoy).(*routev3.Route))
		}
		out = append(out, vh)
	}
	return out
}

// routeEntries translates route's rules once: one entry per valid match.
func (b *gatewayBuilder) routeEntries(route *model.HTTPRoute) []*routeEntry {
	if es, ok := b.entries[route]; ok {
		return es
	}
	obj := "HTTPRoute " + route.Namespace + "/" + route.Name
	es := []*routeEntry{}
	if len(route.Spec.Rules) == 0 {
		b.r.report(obj, "spec.rules", "route has no rules; it matches nothing")
	}
	for i, rule := range route.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		for k, f := range rule.Filters {
			b.r.report(obj, fmt.Sprintf("%s.filters[%d]", field, k), "filter %q is not supported; ignored", f.Type)
		}
		if rule.Timeouts != nil {
			b.r.report(obj, field+".timeouts", "timeouts are not supported; ignored")
		}
		if rule.Retry != nil {
			b.r.report(obj, field+".retry", "retry is not supported; ignored")
		}
		if rule.SessionPersistence != nil {
			b.r.report(obj, field+".sessionPersistence", "sessionPersistence is not supported; ignored")
		}
		backends, ok := b.resolveRule(route, i, rule)
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{defaultMatch}
		}
		for k, m := range matches {
			rm, key, ferr := translateMatch(m, fmt.Sprintf("%s.matches[%d]", field, k))
			if ferr != nil {
				b.r.report(obj, ferr.field, "%s; match ignored", ferr.message)
				continue
			}
			er := &routev3.Route{Name: envoyRouteName(route, i, k), Match: rm}
			if ok {
				er.Action = routeAction(backends)
			} else {
				er.Action = internalError()
			}
			es = append(es, &routeEntry{route: route, rule: i, match: k, key: key, envoy: er})
		}
	}
	b.entries[route] = es
	return es
}
