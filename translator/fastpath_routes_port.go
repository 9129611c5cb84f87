package translator

import (
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/causeway-dev/causeway/model"
)

// portRoutes is the route fast path's index of one gateway listener port:
// the attachments of every route, which routes name each hostname, and
// the port's virtual hosts.
type portRoutes struct {
	port          uint32
	rc            string   // route configuration name
	listenerHosts []string // anyHost for a listener without hostname
	attached      map[string][]attachment
	// refs counts the attachments naming each hostname; byHost lists the
	// routes (keys) of those attachments.
	refs   map[string]int
	byHost map[string][]string
	// hosts are the virtual hosts' hostnames, sorted; names their names.
	hosts, names []string
}

// index builds st.ports from the attachments Translate left (once).
func (st *routeState) index() {
	if st.ports != nil {
		return
	}
	st.ports = make(map[uint32]*portRoutes, len(st.listeners))
	for port, lhosts := range st.listeners {
		pr := &portRoutes{port: port, rc: GatewayListenerName(port), listenerHosts: lhosts,
			attached: map[string][]attachment{}, refs: map[string]int{}, byHost: map[string][]string{}}
		for _, a := range st.raw[port] {
			pr.add(model.RouteKey(a.route), a)
		}
		var hosts []string
		for h := range pr.refs {
			hosts = append(hosts, h)
		}
		hosts = append(hosts, shadowedListenerHosts(lhosts, hosts)...)
		pr.hosts = sortedUnique(hosts)
		pr.names = make([]string, len(pr.hosts))
		for i, h := range pr.hosts {
			pr.names[i] = gatewayVirtualHostName(pr.rc, h)
		}
		st.ports[port] = pr
	}
	st.raw = nil
}

// add indexes attachment a of route k.
func (pr *portRoutes) add(k string, a attachment) {
	pr.attached[k] = append(pr.attached[k], a)
	for _, g := range a.hostnames {
		pr.refs[g]++
		if keys := pr.byHost[g]; len(keys) == 0 || keys[len(keys)-1] != k {
			pr.byHost[g] = append(keys, k)
		}
	}
}

// remove drops every attachment of route k.
func (pr *portRoutes) remove(k string) {
	for _, a := range pr.attached[k] {
		for _, g := range a.hostnames {
			if pr.refs[g]--; pr.refs[g] <= 0 {
				delete(pr.refs, g)
			}
			if keys := pr.byHost[g]; slices.Contains(keys, k) {
				if keys = slices.DeleteFunc(keys, func(x string) bool { return x == k }); len(keys) == 0 {
					delete(pr.byHost, g)
				} else {
					pr.byHost[g] = keys
				}
			}
		}
	}
	delete(pr.attached, k)
}

// coveringPatterns are the hostnames that may cover h: h, "*", and the
// wildcards of its parent domains (parentSuffixes).
func coveringPatterns(h string) []string {
	out := []string{h, anyHost}
	for suffix := range parentSuffixes(h) {
		out = append(out, "*"+suffix)
	}
	return out
}

// served reports whether h is one of the port's virtual hosts: a hostname
// some attachment names, or a listener hostname such a hostname covers
// (shadowedListenerHosts).
func (pr *portRoutes) served(h string) bool {
	if pr.refs[h] > 0 {
		return true
	}
	if h == anyHost || !slices.Contains(pr.listenerHosts, h) {
		return false
	}
	for _, g := range coveringPatterns(h)[1:] {
		if pr.refs[g] > 0 && hostCovers(g, h) {
			return true
		}
	}
	return false
}

// apply moves the port to the new attachments of the changed routes
// (attach: by route key, per port; a removed route has none) and returns
// the patch of its route configuration, nil when no virtual host changed.
func (pr *portRoutes) apply(b *gatewayBuilder, keys []string, attach map[string]map[uint32][]attachment) *RouteConfigPatch {
	var touched []string // hostnames of the changed routes' attachments, old and new
	for _, k := range keys {
		for _, a := range pr.attached[k] {
			touched = append(touched, a.hostnames...)
		}
		pr.remove(k)
		for _, a := range attach[k][pr.port] {
			touched = append(touched, a.hostnames...)
			pr.add(k, a)
		}
	}
	if len(touched) == 0 {
		return nil
	}
	touched = sortedUnique(touched)
	affected := map[string]bool{}
	// Virtual hosts that come or go: a touched hostname, or a listener
	// hostname it may shadow.
	for _, h := range append(slices.Clone(touched), pr.listenerHosts...) {
		i, was := slices.BinarySearch(pr.hosts, h)
		switch now := pr.served(h); {
		case was && !now:
			pr.hosts = slices.Delete(pr.hosts, i, i+1)
			pr.names = slices.Delete(pr.names, i, i+1)
		case !was && now:
			pr.hosts = slices.Insert(pr.hosts, i, h)
			pr.names = slices.Insert(pr.names, i, gatewayVirtualHostName(pr.rc, h))
			affected[h] = true
		}
	}
	// Virtual hosts a touched hostname covers: itself, or for a wildcard
	// (or none) every host it covers.
	var wild []string
	for _, g := range touched {
		if g == anyHost || strings.HasPrefix(g, "*.") {
			wild = append(wild, g)
		} else if _, ok := slices.BinarySearch(pr.hosts, g); ok {
			affected[g] = true
		}
	}
	if len(wild) > 0 {
		for _, h := range pr.hosts {
			if slices.ContainsFunc(wild, func(g string) bool { return hostCovers(g, h) }) {
				affected[h] = true
			}
		}
	}
	patch := &RouteConfigPatch{
		Config:       gatewayRouteConfig(pr.port, nil),
		VirtualHosts: slices.Clone(pr.names),
		Built:        make(map[string]*routev3.VirtualHost, len(affected)),
	}
	for h := range affected {
		if _, ok := slices.BinarySearch(pr.hosts, h); !ok {
			continue
		}
		cands := pr.candidates(h)
		covering := newAttachmentIndex(cands).covering(mostSpecificListener(pr.listenerHosts, h), h, nil)
		vh := b.virtualHost(pr.port, pr.rc, h, cands, covering)
		patch.Built[vh.Name] = vh
	}
	return patch
}

// candidates are the attachments, in route order, of the routes with a
// hostname that covers h.
func (pr *portRoutes) candidates(h string) []attachment {
	var keys []string
	for _, g := range coveringPatterns(h) {
		if hostCovers(g, h) {
			keys = append(keys, pr.byHost[g]...)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var out []attachment
	for _, k := range keys {
		out = append(out, pr.attached[k]...)
	}
	return out
}
