package translator

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/causeway-dev/causeway/model"
)

// maxClosestHosts bounds the hosts an UnknownHostError suggests.
const maxClosestHosts = 5

// routeCluster is a cluster a listed route forwards to, with its weight in
// the first route naming it.
type routeCluster struct {
	name   string
	weight uint32
}

// gatewayRoutes are the proxy's RouteConfigurations as Translate builds
// them (computed once per explainer).
func (ex *explainer) gatewayRoutes(w *model.Snapshot) []*routev3.RouteConfiguration {
	if ex.routeConfigs == nil {
		ex.routeConfigs = Translate(w, ex.p, Credentials{}).Routes
	}
	return ex.routeConfigs
}

// routes lists, in each of the proxy's RouteConfigurations, the routes of
// the virtual host Envoy picks for q.Host whose path matches q.Path (every
// route without a path), and the clusters they forward to.
// empty lists the picked virtual hosts that have no route at all.
func (ex *explainer) routes(w *model.Snapshot, q ExplainQuery) (out []ExplainedRoute, clusters []routeCluster, empty []string) {
	host, _, _ := strings.Cut(q.Host, ":")
	path, _, _ := strings.Cut(q.Path, "?")
	listed := map[string]bool{}
	for _, rc := range ex.gatewayRoutes(w) {
		vh := pickVirtualHost(rc.GetVirtualHosts(), host)
		if vh == nil {
			continue
		}
		if len(vh.GetRoutes()) == 0 {
			empty = append(empty, rc.GetName()+" "+vh.GetName())
		}
		for _, r := range vh.GetRoutes() {
			if path != "" && !pathMatches(r.GetMatch(), path) {
				continue
			}
			er := ExplainedRoute{RouteConfig: rc.GetName(), VirtualHost: vh.GetName(), Name: r.GetName(), Match: matchText(r.GetMatch())}
			switch {
			case r.GetRedirect() != nil:
				er.Action = "redirect"
			case r.GetDirectResponse() != nil:
				er.Action = fmt.Sprintf("direct response %d", r.GetDirectResponse().GetStatus())
			default:
				er.Action = "forward"
				if c := r.GetRoute().GetCluster(); c != "" {
					er.Backends = append(er.Backends, ExplainedBackend{Cluster: c, Weight: 1})
				}
				for _, wc := range r.GetRoute().GetWeightedClusters().GetClusters() {
					er.Backends = append(er.Backends, ExplainedBackend{Cluster: wc.GetName(), Weight: wc.GetWeight().GetValue()})
				}
			}
			for _, b := range er.Backends {
				if !listed[b.Cluster] { // a set: a virtual host may hold thousands of routes
					listed[b.Cluster] = true
					clusters = append(clusters, routeCluster{b.Cluster, b.Weight})
				}
			}
			out = append(out, er)
		}
	}
	return out, clusters, empty
}

// pickVirtualHost is the virtual host Envoy picks for host: an exact
// domain, else the longest suffix wildcard (*.example.com), else the
// longest prefix wildcard (example.*), else "*".
func pickVirtualHost(vhs []*routev3.VirtualHost, host string) *routev3.VirtualHost {
	host = strings.ToLower(host)
	var (
		best      *routev3.VirtualHost
		bestClass = 4 // 0 exact, 1 suffix, 2 prefix, 3 any
		bestLen   = -1
	)
	for _, vh := range vhs {
		for _, d := range vh.GetDomains() {
			d = strings.ToLower(d)
			class := -1
			switch {
			case d == host:
				class = 0
			case d == "*":
				class = 3
			case strings.HasPrefix(d, "*") && strings.HasSuffix(host, d[1:]) && len(host) > len(d)-1:
				class = 1
			case strings.HasSuffix(d, "*") && strings.HasPrefix(host, d[:len(d)-1]) && len(host) > len(d)-1:
				class = 2
			}
			if class < 0 {
				continue
			}
			if class < bestClass || class == bestClass && len(d) > bestLen {
				best, bestClass, bestLen = vh, class, len(d)
			}
		}
	}
	return best
}

// pathMatches reports whether a route's path condition accepts path (its
// other conditions are shown, not evaluated).
func pathMatches(m *routev3.RouteMatch, path string) bool {
	switch {
	case m.GetPath() != "":
		return path == m.GetPath()
	case m.GetPathSeparatedPrefix() != "":
		p := m.GetPathSeparatedPrefix()
		return path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/")
	case m.GetSafeRegex() != nil:
		re, err := regexp.Compile("^(?:" + m.GetSafeRegex().GetRegex() + ")$")
		return err == nil && re.MatchString(path)
	}
	return strings.HasPrefix(path, m.GetPrefix())
}

// matchText describes a route's conditions.
func matchText(m *routev3.RouteMatch) string {
	var s string
	switch {
	case m.GetPath() != "":
		s = "path " + m.GetPath()
	case m.GetPathSeparatedPrefix() != "":
		s = "path prefix " + m.GetPathSeparatedPrefix()
	case m.GetSafeRegex() != nil:
		s = "path regex " + m.GetSafeRegex().GetRegex()
	default:
		s = "prefix " + m.GetPrefix()
	}
	var headers, params []string
	for _, h := range m.GetHeaders() {
		headers = append(headers, h.GetName())
	}
	for _, q := range m.GetQueryParameters() {
		params = append(params, q.GetName())
	}
	if len(headers) > 0 {
		s += ", headers " + strings.Join(headers, " ")
	}
	if len(params) > 0 {
		s += ", query " + strings.Join(params, " ")
	}
	return s
}

// maxRouteMatches bounds the routes a NoRouteError lists.
const maxRouteMatches = 10

// routeMatches describes the routes of the virtual hosts the proxy picks
// for host, in order, at most maxRouteMatches (the last says how many more).
func (ex *explainer) routeMatches(w *model.Snapshot, host string) []string {
	if ex.p.Role != model.RoleGateway {
		return nil
	}
	host, _, _ = strings.Cut(host, ":")
	var out []string
	n := 0
	for _, rc := range ex.gatewayRoutes(w) {
		vh := pickVirtualHost(rc.GetVirtualHosts(), host)
		for _, r := range vh.GetRoutes() {
			if n++; n <= maxRouteMatches {
				out = append(out, matchText(r.GetMatch()))
			}
		}
	}
	if n > maxRouteMatches {
		out = append(out, fmt.Sprintf("and %d more", n-maxRouteMatches))
	}
	return out
}

// knownHosts lists every destination host and, for a gateway proxy, every
// domain of its routes' virtual hosts other than "*".
func (ex *explainer) knownHosts(w *model.Snapshot) []string {
	seen := map[string]bool{}
	for hp := range ex.claims.winners {
		seen[hp.host] = true
	}
	if ex.p.Role == model.RoleGateway {
		for _, rc := range ex.gatewayRoutes(w) {
			for _, vh := range rc.GetVirtualHosts() {
				for _, d := range vh.GetDomains() {
					if d != "*" {
						seen[d] = true
					}
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	return out
}

// closestHosts returns up to n of hosts, nearest to host first (edit
// distance, then name).
func closestHosts(host string, hosts []string, n int) []string {
	type scored struct {
		host string
		d    int
	}
	list := make([]scored, 0, len(hosts))
	for _, h := range hosts {
		list = append(list, scored{h, editDistance(host, h)})
	}
	slices.SortFunc(list, func(a, b scored) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.host, b.host)) })
	out := make([]string, 0, min(n, len(list)))
	for _, s := range list[:min(n, len(list))] {
		out = append(out, s.host)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
