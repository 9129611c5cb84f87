package translator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/causeway-dev/causeway/model"
)

// Explain says, for proxy p and one host, which endpoints the proxy's load
// assignments hold and why: for each destination (Envoy cluster) serving
// the host, each endpoint with its Service, cluster, locality, state, the
// priority it got and the rule that set it, the east-west gateways it is
// reached through and its weights, and each endpoint left out with the
// reason. It is pure, like Translate, and uses the same code: candidates
// come from collectCandidates (and its federated and Service backendRef
// siblings), groups from endpointSetFor, priorities and their rules from
// endpointSet.ranked, and weights from the assignment itself, so an
// explanation cannot disagree with the EDS the proxy gets.
//
// The host is a VirtualDestination or ExternalService host, a federated
// hostname, or (for a gateway proxy) a hostname its Gateways' routes
// serve; with a path, or when no destination has the host, Explain
// follows the proxy's routes for host and path to their backends.
func Explain(w *model.Snapshot, p model.Proxy, q ExplainQuery) (*Explanation, error) {
	if q.Host == "" {
		return nil, fmt.Errorf("no host to explain")
	}
	if w.Cluster(p.Cluster) == nil {
		return nil, &UnknownClusterError{Cluster: p.Cluster, Known: clusterList(w)}
	}
	scoped, claims, _ := scopeWorld(w)
	ex := &explainer{w: scoped, p: p, claims: claims}
	if routesOutbound(p) {
		ex.policies = indexPolicies(scoped, p.Locality, &Resources{})
	}
	out := &Explanation{
		Proxy: ExplainedProxy{Role: string(p.Role), Cluster: p.Cluster, Gateway: p.Gateway, Locality: p.Locality},
		Host:  q.Host, Path: q.Path, Port: q.Port,
	}
	if p.Role == model.RoleClient {
		diag := &Resources{}
		if _, ok := clientWorkspace(claims.ws, p, diag); !ok {
			out.Notes = []string{diag.Diagnostics[0].String()}
			return out, nil
		}
	}
	hasDest := ex.hasDestinationHost(q.Host)
	if q.Path != "" || !hasDest {
		if routesOutbound(p) {
			routes, clusters, empty := ex.routes(w, q)
			if len(routes) == 0 && len(empty) > 0 && q.Path == "" {
				for _, vh := range empty {
					out.Notes = append(out.Notes, fmt.Sprintf("virtual host %s has no route: Envoy answers 404", vh))
				}
				out.sort()
				return out, nil
			}
			if len(routes) > 0 {
				out.Routes = routes
				for _, rc := range clusters {
					if d, ok := ex.destinationByCluster(rc.name); ok {
						d.RouteWeight = rc.weight
						out.Destinations = append(out.Destinations, d)
					} else {
						out.Notes = append(out.Notes, fmt.Sprintf("cluster %s is not a destination Causeway explains (an ExternalService's own cluster)", rc.name))
					}
				}
				out.sort()
				return out, nil
			}
		}
		if matches := ex.routeMatches(w, q.Host); q.Path != "" && len(matches) > 0 {
			return nil, &NoRouteError{Host: q.Host, Path: q.Path, Matches: matches}
		}
		if q.Path != "" || !hasDest {
			return nil, &UnknownHostError{Host: q.Host, Path: q.Path, Closest: closestHosts(q.Host, ex.knownHosts(w), maxClosestHosts)}
		}
	}
	out.Destinations, out.Notes = ex.destinationsOfHost(q.Host, q.Port)
	out.sort()
	return out, nil
}

// ExplainQuery names what to explain.
type ExplainQuery struct {
	Host string
	// Port limits a destination host to one port (0: every port).
	Port uint32
	// Path picks the routes of a gateway proxy's host that match it.
	Path string
}

// Explanation is Explain's answer; every list is sorted.
type Explanation struct {
	Proxy ExplainedProxy `json:"proxy"`
	Host  string         `json:"host"`
	Port  uint32         `json:"port,omitempty"`
	Path  string         `json:"path,omitempty"`
	// Routes are the gateway routes host (and path) match, in the order
	// Envoy tries them, when the host was explained through routes.
	Routes       []ExplainedRoute       `json:"routes,omitempty"`
	Destinations []ExplainedDestination `json:"destinations"`
	// Notes are facts about the host that are not endpoints: a claim of the
	// host that lost to another object, a destination without endpoints here.
	Notes []string `json:"notes,omitempty"`
}

// ExplainedProxy is the proxy identity explained for.
type ExplainedProxy struct {
	Role     string         `json:"role"`
	Cluster  string         `json:"cluster"`
	Gateway  string         `json:"gateway,omitempty"`
	Locality model.Locality `json:"locality"`
}

// ExplainedRoute is one route of the proxy's RouteConfigurations.
type ExplainedRoute struct {
	RouteConfig string `json:"routeConfig"`
	VirtualHost string `json:"virtualHost"`
	Name        string `json:"name"`
	// Match describes the route's conditions (path, headers, query, method).
	Match string `json:"match"`
	// Action is "forward" (to Backends), "redirect" or "direct response N".
	Action   string             `json:"action"`
	Backends []ExplainedBackend `json:"backends,omitempty"`
}

// ExplainedBackend is one cluster a route forwards to, with its weight
// among the route's clusters.
type ExplainedBackend struct {
	Cluster string `json:"cluster"`
	Weight  uint32 `json:"weight"`
}

// ExplainedDestination is one Envoy cluster and its load assignment.
type ExplainedDestination struct {
	// Cluster is the Envoy cluster (and load assignment) name.
	Cluster string `json:"cluster"`
	// Object is what the cluster is built for: "VirtualDestination ns/name",
	// a federated Service, or "Service cluster/ns/name" (a backendRef).
	Object    string `json:"object"`
	Host      string `json:"host,omitempty"`
	Port      uint32 `json:"port"`
	Subset    string `json:"subset,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	// Ranking is how priorities are assigned: "flat", "PreferClose" or the
	// policy that turned priorities on.
	Ranking string `json:"ranking"`
	// RouteWeight is the cluster's weight in the route that leads to it
	// (routes mode only).
	RouteWeight uint32              `json:"routeWeight,omitempty"`
	Endpoints   []ExplainedEndpoint `json:"endpoints"`
	LeftOut     []LeftOutEndpoint   `json:"leftOut,omitempty"`
}

// ExplainedEndpoint is one endpoint in a load assignment.
type ExplainedEndpoint struct {
	// Service is "Service ns/name" or "ExternalService ns/name".
	Service  string         `json:"service"`
	Cluster  string         `json:"cluster,omitempty"`
	Address  string         `json:"address"`
	Locality model.Locality `json:"locality"`
	// State is "ready", or "stale" for an endpoint of a cluster Causeway
	// lost sight of.
	State    string `json:"state"`
	Priority uint32 `json:"priority"`
	// Rule says which rule set the priority.
	Rule string `json:"rule"`
	// Port and Weight are the endpoint's own address port and
	// load_balancing_weight when the proxy reaches it directly.
	Port   uint32 `json:"port,omitempty"`
	Weight uint32 `json:"weight,omitempty"`
	// Via are the east-west gateways standing in for it (and for the other
	// endpoints of its cluster in its locality and priority): their
	// load_balancing_weight counts those endpoints.
	Via []ExplainedGateway `json:"via,omitempty"`
	// LocalityWeight is the load_balancing_weight of its locality group.
	LocalityWeight uint32 `json:"localityWeight"`
}

// ExplainedGateway is an east-west gateway address in a load assignment.
type ExplainedGateway struct {
	Address string `json:"address"`
	Port    uint32 `json:"port"`
	Weight  uint32 `json:"weight"`
}

// LeftOutEndpoint is an endpoint of a selected Service that the
// assignment does not hold.
type LeftOutEndpoint struct {
	Service  string         `json:"service"`
	Cluster  string         `json:"cluster,omitempty"`
	Address  string         `json:"address"`
	Locality model.Locality `json:"locality"`
	Reason   string         `json:"reason"`
}

// UnknownHostError is Explain's answer for a host nothing serves.
type UnknownHostError struct {
	Host, Path string
	// Closest are the known hosts nearest to Host, closest first.
	Closest []string
}

func (e *UnknownHostError) Error() string {
	what := "host " + e.Host
	if e.Path != "" {
		what = fmt.Sprintf("host %s path %s", e.Host, e.Path)
	}
	if len(e.Closest) == 0 {
		return what + ": no destination or route serves it, and the proxy knows no host"
	}
	return fmt.Sprintf("%s: no destination or route serves it; closest known hosts: %v", what, e.Closest)
}

// NoRouteError is Explain's answer for a path no route of a known host
// matches.
type NoRouteError struct {
	Host, Path string
	// Matches describe the host's routes, in order (at most maxRouteMatches).
	Matches []string
}

func (e *NoRouteError) Error() string {
	return fmt.Sprintf("host %s: no route matches path %s (its routes: %s)", e.Host, e.Path, strings.Join(e.Matches, "; "))
}

// UnknownClusterError is Explain's answer for a proxy of a cluster the
// world does not have.
type UnknownClusterError struct {
	Cluster string
	Known   []string
}

func (e *UnknownClusterError) Error() string {
	return fmt.Sprintf("cluster %q is not in the world (clusters: %v)", e.Cluster, e.Known)
}

func clusterList(w *model.Snapshot) []string {
	var out []string
	for _, c := range w.Clusters() {
		out = append(out, c.Name)
	}
	slices.Sort(out)
	return out
}

// sort orders destinations by cluster name, endpoints by priority,
// locality, cluster, address and Service, left-out endpoints by cluster,
// Service, address and reason.
func (e *Explanation) sort() {
	slices.SortStableFunc(e.Destinations, func(a, b ExplainedDestination) int { return cmp.Compare(a.Cluster, b.Cluster) })
	for i := range e.Destinations {
		d := &e.Destinations[i]
		slices.SortStableFunc(d.Endpoints, func(a, b ExplainedEndpoint) int {
			return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Locality.String(), b.Locality.String()),
				cmp.Compare(a.Cluster, b.Cluster), compareAddr(a.Address, b.Address), cmp.Compare(a.Service, b.Service))
		})
		slices.SortStableFunc(d.LeftOut, func(a, b LeftOutEndpoint) int {
			return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Service, b.Service),
				compareAddr(a.Address, b.Address), cmp.Compare(a.Reason, b.Reason))
		})
	}
	if e.Destinations == nil {
		e.Destinations = []ExplainedDestination{}
	}
}
