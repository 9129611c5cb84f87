package translator

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/causeway-dev/causeway/model"
)

// A client proxy serves the applications of its node (or namespace): they
// call VirtualDestination and federated hostnames directly, resolved by
// the proxy's DNS listener (client_dns.go) to its bind address. It gets
// the clusters and load assignments a gateway proxy in its cluster and
// locality gets (buildOutbound, buildFederatedOutbound: priorities,
// policies, subsets, east-west mTLS all follow), and instead of Gateway
// listeners one HTTP listener per destination port with one virtual host
// per hostname its workspace sees. HTTPRoutes attached to a
// VirtualDestination or a Service (client_mesh.go) replace a host's
// default route.

// ClientListenerName is the name of a client proxy's HTTP listener on
// port, and of the route configuration it fetches over RDS.
func ClientListenerName(port uint32) string { return "client_" + strconv.FormatUint(uint64(port), 10) }

// ClientDNSListenerName is the client proxy's UDP DNS listener.
const ClientDNSListenerName = "client_dns"

// clientVirtualHostName names the virtual host for hostname inside route
// configuration routeConfig ("client_9080~reviews.mesh.internal").
func clientVirtualHostName(routeConfig, hostname string) string { return routeConfig + "~" + hostname }

// defaultRouteName is the name of a virtual host's route when no HTTPRoute
// is attached to its destination.
const defaultRouteName = "default"

// clientDestination is one host:port a client proxy serves.
type clientDestination struct {
	key DestinationKey // no subset
}

// buildClient adds the resources of a client proxy. It returns the policy
// index and the route builder it used (for the endpoint fast path's
// index); both nil when the proxy sees no destinations at all.
func buildClient(w *model.Snapshot, p model.Proxy, trustDomain string, claims *hostPortClaims, r *Resources) (policyIndex, *gatewayBuilder) {
	viewer, ok := clientWorkspace(claims.ws, p, r)
	if !ok {
		return nil, nil
	}
	policies := buildOutbound(w, p, trustDomain, claims, r)
	buildFederatedOutbound(w, p, trustDomain, claims, r)
	dests := clientDestinations(claims, viewer)
	b := newRouteBuilder(w, p, claims, r)
	mesh := meshRoutes(w, claims, r)
	byPort := map[uint32][]clientDestination{}
	for _, d := range dests {
		byPort[d.key.Port] = append(byPort[d.key.Port], d)
	}
	for _, port := range slices.Sorted(maps.Keys(byPort)) {
		name := ClientListenerName(port)
		r.Listeners = append(r.Listeners, clientListener(p.BindAddress, port))
		rc := &routev3.RouteConfiguration{Name: name}
		for _, d := range byPort[port] {
			rc.VirtualHosts = append(rc.VirtualHosts, b.clientVirtualHost(name, d, mesh[d.key]))
		}
		r.Routes = append(r.Routes, rc)
	}
	b.addServiceClusters()
	r.Listeners = append(r.Listeners, clientDNSListener(p, dests))
	return policies, b
}

// clientWorkspace is the workspace whose view the client proxy serves:
// that of its namespace ("" without workspaces). false, with a diagnostic
// naming the node metadata, when workspaces exist and the proxy names no
// namespace or one in no workspace: it then serves nothing rather than
// guessing.
func clientWorkspace(ws *workspaces, p model.Proxy, r *Resources) (string, bool) {
	if !ws.enabled() {
		return "", true
	}
	obj, field := clientObject(p), "node.metadata."+model.NodeMetaNamespace
	if p.Namespace == "" {
		r.report(obj, field, "the world has Workspaces, so a client proxy must name the namespace whose clients it serves (%s); it gets no destinations",
			model.NodeMetaNamespace)
		return "", false
	}
	name, ok := ws.ofObject(p.Namespace)
	if !ok {
		r.report(obj, field, "%s; the proxy gets no destinations", ws.notInWorkspaceMessage(p.Namespace))
	}
	return name, ok
}

// clientDestinations lists the VirtualDestination and federated host:ports
// workspace viewer sees, by port then host: for each host:port the
// standing claim viewer sees (as a Hostname backendRef from viewer would
// resolve it). An ExternalService's own hosts are real external names,
// reached directly; a client proxy does not take them over.
func clientDestinations(claims *hostPortClaims, viewer string) []clientDestination {
	keys := slices.SortedFunc(maps.Keys(claims.winners), func(a, b hostPortKey) int {
		return cmp.Or(cmp.Compare(a.port, b.port), strings.Compare(a.host, b.host))
	})
	var out []clientDestination
	for _, hp := range keys {
		for _, cl := range claims.winners[hp] {
			if !claims.ws.sees(viewer, cl.workspace) {
				continue
			}
			switch cl.key.obj.(type) {
			case *model.VirtualDestination, *federatedHost:
				out = append(out, clientDestination{key: cl.destination()})
			}
			break // the first claim viewer sees is the one its names mean
		}
	}
	return out
}

// clientListener is an HTTP listener on bind:port (codec AUTO: HTTP/1.1,
// HTTP/2 with prior knowledge, so gRPC too) routing by RDS.
func clientListener(bind string, port uint32) *listenerv3.Listener {
	name := ClientListenerName(port)
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Protocol:      corev3.SocketAddress_TCP,
			Address:       bind,
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       wellknown.HTTPConnectionManager,
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: gatewayAny(gatewayHCM(name))},
			}},
		}},
	}
}

// clientVirtualHost is the virtual host of one destination: its domains
// are the host with and without the port (what clients put in Host), its
// routes those of the HTTPRoutes attached to it in Gateway API precedence,
// or else one route to the destination's cluster.
func (b *gatewayBuilder) clientVirtualHost(routeConfig string, d clientDestination, routes []*model.HTTPRoute) *routev3.VirtualHost {
	host := d.key.Host
	vh := &routev3.VirtualHost{
		Name:        clientVirtualHostName(routeConfig, host),
		Domains:     []string{host, host + ":" + strconv.FormatUint(uint64(d.key.Port), 10)},
		RetryPolicy: defaultRetryPolicy(),
	}
	if len(routes) == 0 {
		vh.Routes = []*routev3.Route{defaultClientRoute(d.key.ClusterName())}
		return vh
	}
	var entries []*routeEntry
	for _, route := range routes {
		entries = append(entries, b.routeEntries(route)...)
	}
	slices.SortStableFunc(entries, func(x, y *routeEntry) int {
		switch {
		case x.precedes(y):
			return -1
		case y.precedes(x):
			return 1
		}
		return 0
	})
	for _, e := range entries {
		er := proto.Clone(e.envoy).(*routev3.Route)
		if e.listenerPort {
			er.GetRedirect().PortRedirect = d.key.Port
		}
		vh.Routes = append(vh.Routes, er)
	}
	return vh
}

// defaultClientRoute forwards every request to cluster. It has no timeout:
// an application calling its own service over the proxy may hold a gRPC or
// HTTP stream open for as long as it likes (Envoy's default would cut it
// after 15 s); an attached HTTPRoute sets one where wanted.
func defaultClientRoute(cluster string) *routev3.Route {
	return &routev3.Route{
		Name:  defaultRouteName,
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster},
			Timeout:          durationpb.New(0),
		}},
	}
}

// clientObject names a client proxy in diagnostics.
func clientObject(p model.Proxy) string { return fmt.Sprintf("client proxy of cluster %s", p.Cluster) }

// routesOutbound reports whether p routes to destinations in every
// cluster (a gateway or client proxy), rather than forwarding to its own
// cluster's endpoints (an east-west proxy).
func routesOutbound(p model.Proxy) bool {
	return p.Role == model.RoleGateway || p.Role == model.RoleClient
}
