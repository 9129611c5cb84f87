package translator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// buildGateway adds listeners and route configurations for the Gateways and
// HTTPRoutes this gateway proxy serves (its own Gateway, or every Gateway
// its cluster serves): one listener "gateway_<port>" per distinct HTTP
// listener port, with a route configuration of the same name holding one
// virtual host per hostname.
func buildGateway(w *model.Snapshot, p model.Proxy, claims *hostPortClaims, r *Resources) *gatewayBuilder {
	b := &gatewayBuilder{
		w: w, p: p, r: r,
		resolver:            backendResolver{w: w, cluster: p.Cluster, claims: claims},
		serviceClusters:     map[string]*builtCluster{},
		usedServiceClusters: map[string]bool{},
		entries:             map[*model.HTTPRoute][]*routeEntry{},
	}
	b.idx = newGatewayIndex(w, r, func(gw *model.Gateway) bool { return servedBy(gw, p.Cluster) && p.ServesGateway(gw.Namespace, gw.Name) })
	reportProxyGateway(w, p, r)
	ports := b.listenersByPort()
	attached := b.attachRoutes()
	for _, port := range slices.Sorted(maps.Keys(ports)) {
		r.Listeners = append(r.Listeners, b.portListener(port, ports[port]))
		r.Routes = append(r.Routes, gatewayRouteConfig(port, b.virtualHosts(port, ports[port], attached[port])))
	}
	for _, name := range slices.Sorted(maps.Keys(b.usedServiceClusters)) {
		bc := b.serviceClusters[name]
		r.Clusters = append(r.Clusters, bc.cluster)
		if bc.endpoints != nil && r.wantsEndpoints(bc.service) {
			r.Endpoints = append(r.Endpoints, bc.endpoints)
		}
	}
	return b
}

type gatewayBuilder struct {
	w        *model.Snapshot
	p        model.Proxy
	r        *Resources
	idx      *gatewayIndex
	resolver backendResolver
	// serviceClusters caches serviceCluster results by name (nil: failed).
	serviceClusters     map[string]*builtCluster
	usedServiceClusters map[string]bool
	// entries caches each HTTPRoute's translated rules, so that a route
	// attached to several ports or hostnames is resolved (and diagnosed) once.
	entries map[*model.HTTPRoute][]*routeEntry
}

// attachment is an HTTPRoute attached to the listeners with one hostname
// on a port, with the hostnames it serves there.
type attachment struct {
	route *model.HTTPRoute
	// listener is the listeners' hostname (anyHost for none).
	listener  string
	hostnames []string
}

// servedBy reports whether gateway proxies of cluster serve gw: those of
// the cluster its annotation names, or of every cluster without one.
func servedBy(gw *model.Gateway, cluster string) bool {
	c := gw.Annotations[model.ClusterAnnotation]
	return c == "" || c == cluster
}

// listenersByPort collects the usable listeners of served Gateways by port.
// Listeners of several Gateways on one port (a proxy of every Gateway)
// share one Envoy listener.
func (b *gatewayBuilder) listenersByPort() map[uint32][]gwListener {
	ports := map[uint32][]gwListener{}
	for _, gw := range b.w.Gateways() {
		for _, l := range b.idx.listeners[gw] {
			if !l.served() {
				continue
			}
			port := uint32(l.listener.Port)
			ports[port] = append(ports[port], l)
		}
	}
	return ports
}

// attachRoutes finds, per port, the HTTPRoutes whose parentRefs select a
// listener of a served Gateway on it, and the hostnames each serves there.
// Routes keep the snapshot's namespace/name order.
func (b *gatewayBuilder) attachRoutes() map[uint32][]attachment {
	out := map[uint32][]attachment{}
	for _, route := range b.w.HTTPRoutes() {
		obj := "HTTPRoute " + route.Namespace + "/" + route.Name
		hosts, hostsSet := routeHostnames(route, b.r)
		perPort := map[uint32]map[string][]string{} // port → listener hostname → route hostnames
		for j, ref := range route.Spec.ParentRefs {
			field := fmt.Sprintf("spec.parentRefs[%d]", j)
			pa := b.idx.attachParent(route, ref, hosts, hostsSet)
			switch {
			case pa.notGateway:
				b.r.report(obj, field, "parent %s/%s is not a Gateway of %s; ignored", refString(ref.Group), refString(ref.Kind), gwv1.GroupName)
				continue
			case pa.foreign: // another controller's Gateway
				continue
			case pa.gw == nil:
				b.r.report(obj, field, "%s", pa.message)
				continue
			case !pa.indexed: // a Gateway this proxy does not serve
				continue
			case len(pa.listeners) == 0:
				b.r.report(obj, field, "%s", pa.message)
			}
			for _, lh := range pa.listeners {
				if !lh.l.served() {
					continue
				}
				port := uint32(lh.l.listener.Port)
				if perPort[port] == nil {
					perPort[port] = map[string][]string{}
				}
				lhost := cmp.Or(lh.l.hostname, anyHost)
				perPort[port][lhost] = append(perPort[port][lhost], lh.hostnames...)
			}
		}
		for port, byListener := range perPort {
			for _, lhost := range slices.Sorted(maps.Keys(byListener)) {
				out[port] = append(out[port], attachment{route: route, listener: lhost, hostnames: sortedUnique(byListener[lhost])})
			}
		}
	}
	return out
}

// virtualHosts builds one virtual host per hostname served on the port.
// A request belongs to the listener with the most specific hostname that
// matches it (Gateway API: exact, then longer wildcards, then none), and
// only routes attached to that listener serve it; so a listener hostname
// that a less specific virtual host would cover gets its own virtual host,
// empty (404) when no route attached there. Within the listener, a request
// for a host also falls through to the rules of routes with a less
// specific hostname covering it (a wildcard, or no hostname at all), after
// the more specific ones, as the Gateway API orders them. The routes
// covering a hostname are looked up by hostname (hostindex.go), not found
// by comparing it with every route on the port, so the cost grows with
// the routes, not with hostnames × routes.
func (b *gatewayBuilder) virtualHosts(port uint32, listeners []gwListener, attached []attachment) []*routev3.VirtualHost {
	var hosts, listenerHosts []string
	for _, a := range attached {
		hosts = append(hosts, a.hostnames...)
	}
	for _, l := range listeners {
		listenerHosts = append(listenerHosts, cmp.Or(l.hostname, anyHost))
	}
	hosts = append(hosts, shadowedListenerHosts(listenerHosts, hosts)...)
	listenerSet := newHostSet(listenerHosts)
	index := newAttachmentIndex(attached)
	rc := GatewayListenerName(port)
	var out []*routev3.VirtualHost
	var covering []coveringAttachment
	for _, h := range sortedUnique(hosts) {
		type ranked struct {
			e    *routeEntry
			spec hostSpecificity
		}
		covering = index.covering(listenerSet.mostSpecificCovering(h), h, covering)
		var entries []ranked
		for _, c := range covering {
			for _, e := range b.routeEntries(attached[c.index].route) {
				entries = append(entries, ranked{e, c.spec})
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
		// The default retries are the virtual host's, once rather than on
		// every route: a route's own policy replaces it (Envoy does not
		// merge the two).
		vh := &routev3.VirtualHost{Name: gatewayVirtualHostName(rc, h), Domains: []string{h}, RetryPolicy: defaultRetryPolicy()}
		for _, x := range entries {
			er := proto.Clone(x.e.envoy).(*routev3.Route)
			if x.e.listenerPort {
				er.GetRedirect().PortRedirect = port
			}
			vh.Routes = append(vh.Routes, er)
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
	reportDuplicateRuleNames(route, b.r)
	for i, rule := range route.Spec.Rules {
		field := fmt.Sprintf("spec.rules[%d]", i)
		if rule.SessionPersistence != nil {
			b.r.report(obj, field+".sessionPersistence", "sessionPersistence is not supported; ignored")
		}
		cr := compileRule(rule, field)
		for _, p := range cr.problems {
			b.r.report(obj, p.field, "%s; matching requests get 500", p.message)
		}
		ok := cr.servable()
		var backends []weightedBackend
		if cr.redirect == nil || len(rule.BackendRefs) > 0 {
			var resolved bool
			backends, resolved = b.resolveRule(route, i, rule, cr.backendHeaders)
			ok = ok && resolved
		}
		mirrors := b.mirrorPolicies(route, cr)
		if ok {
			for _, wb := range backends {
				b.useCluster(wb.cluster)
			}
			for _, m := range mirrors {
				b.useCluster(m.GetCluster())
			}
		}
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
			es = append(es, &routeEntry{
				route: route, rule: i, match: k, key: key,
				envoy:        cr.envoyRoute(envoyRouteName(route, i, k), rm, backends, mirrors, ok),
				listenerPort: ok && cr.servable() && cr.redirect != nil && cr.redirect.listenerPort,
			})
		}
	}
	b.entries[route] = es
	return es
}

// mirrorPolicies resolves the rule's mirrors; one that does not resolve is
// dropped (with a diagnostic) and the rule still serves.
func (b *gatewayBuilder) mirrorPolicies(route *model.HTTPRoute, cr *compiledRule) []*routev3.RouteAction_RequestMirrorPolicy {
	var out []*routev3.RouteAction_RequestMirrorPolicy
	for _, m := range cr.mirrors {
		cluster, err := b.resolveBackend(route, m.ref)
		if err != nil {
			b.r.report("HTTPRoute "+route.Namespace+"/"+route.Name, m.field, "%v; mirror dropped", err)
			continue
		}
		out = append(out, m.mirrorPolicy(cluster))
	}
	return out
}
