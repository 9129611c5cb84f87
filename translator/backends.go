package translator

import (
	"fmt"
	"slices"
	"strings"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// weightedBackend is a resolved backendRef: the Envoy cluster, its share
// and its header filters (filters.go).
type weightedBackend struct {
	cluster string
	weight  uint32
	headers headerFilters
}

// maxWeight is the Gateway API's limit; it keeps Envoy's weight sum in range.
const maxWeight = 1000000

// builtCluster is a cluster made for a Service backendRef, kept until some
// route that is not answering 500 uses it.
type builtCluster struct {
	cluster   *clusterv3.Cluster
	endpoints *endpointv3.ClusterLoadAssignment
	service   *model.Service
	port      uint32
}

// Backend kinds a HTTPRoute may name.
const (
	kindService            = "Service"
	kindHostname           = "Hostname"
	kindVirtualDestination = "VirtualDestination"
)

// refError is a backendRef that does not resolve, with the Gateway API
// ResolvedRefs reason status reports for it.
type refError struct {
	reason gwv1.RouteConditionReason
	msg    string
}

func (e *refError) Error() string { return e.msg }

func refErrorf(reason gwv1.RouteConditionReason, format string, args ...any) error {
	return &refError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// reasonOf is the ResolvedRefs reason for a resolution error.
func reasonOf(err error) gwv1.RouteConditionReason {
	if re, ok := err.(*refError); ok {
		return re.reason
	}
	return gwv1.RouteReasonBackendNotFound
}

// backendResolver decides what a backendRef means for the gateway proxies
// of one cluster. It builds nothing, so Translate (which then builds the
// clusters) and Statuses (which only reports) share the same rules.
type backendResolver struct {
	w       *model.Snapshot
	cluster string
	claims  *hostPortClaims
	// workspace is the route's, set by resolve (see workspace_backends.go).
	workspace string
}

// backendTarget is a resolved backendRef: the Envoy cluster it routes to
// and, for a Service backendRef, the Service whose cluster must be built.
type backendTarget struct {
	cluster string
	service *model.Service
	port    uint32
	// dest is the destination of a Hostname or VirtualDestination
	// backendRef (a Subset filter narrows it; see resolveRef).
	dest DestinationKey
}

// resolve maps one backendRef of route to the Envoy cluster that serves
// it, or explains why it cannot (a *refError). VirtualDestination clusters
// are the ones buildOutbound makes for claimed host:ports.
func (br backendResolver) resolve(route *model.HTTPRoute, ref gwv1.BackendObjectReference) (backendTarget, error) {
	br.workspace, _ = br.claims.ws.ofObject(route.Namespace)
	group, kind := "", kindService
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	ns := route.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	name := string(ref.Name)
	var port uint32
	if ref.Port != nil {
		if *ref.Port < 1 || *ref.Port > 65535 {
			return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "%s %q: port %d is out of range", kind, name, *ref.Port)
		}
		port = uint32(*ref.Port)
	}

	switch {
	case (group == "" || group == "core") && kind == kindService:
		if err := br.permitted(route, group, kind, ns, name); err != nil {
			return backendTarget{}, err
		}
		return br.resolveService(ns, name, port)
	case (group == model.IstioAPIGroup || group == model.APIGroup) && kind == kindHostname:
		// A host is global (like DNS): no namespace, so no ReferenceGrant.
		if ref.Namespace != nil {
			return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "Hostname %q: namespace must not be set on a Hostname backendRef", name)
		}
		return br.resolveHostname(name, port)
	case group == model.APIGroup && kind == kindVirtualDestination:
		if err := br.permitted(route, group, kind, ns, name); err != nil {
			return backendTarget{}, err
		}
		return br.resolveVirtualDestination(ns, name, port)
	default:
		return backendTarget{}, refErrorf(gwv1.RouteReasonInvalidKind,
			"backendRef group %q kind %q is not supported (use Service, Hostname of %s or %s, or VirtualDestination of %s)",
			group, kind, model.IstioAPIGroup, model.APIGroup, model.APIGroup)
	}
}

// permitted checks a namespaced backendRef against the ReferenceGrants.
// It runs before the lookup so that a route cannot probe which objects
// exist in namespaces that do not trust it.
func (br backendResolver) permitted(route *model.HTTPRoute, group, kind, ns, name string) error {
	if referenceAllowed(br.w, "HTTPRoute", route.Namespace, group, kind, ns, name) {
		return nil
	}
	return refErrorf(gwv1.RouteReasonRefNotPermitted,
		"%s %s/%s: no ReferenceGrant in namespace %s allows references from HTTPRoutes in namespace %s",
		kind, ns, name, ns, route.Namespace)
}

func (br backendResolver) resolveService(ns, name string, port uint32) (backendTarget, error) {
	if port == 0 {
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "Service %s/%s: port is required", ns, name)
	}
	svc := br.w.Service(model.ServiceKey{Cluster: br.cluster, Namespace: ns, Name: name})
	if svc == nil {
		if elsewhere := serviceClustersOf(br.w, ns, name); len(elsewhere) > 0 {
			return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound,
				"Service %s/%s not found in cluster %s (it is in %v; a Service backendRef only reaches the gateway's own cluster, use a VirtualDestination to reach others)",
				ns, name, br.cluster, elsewhere)
		}
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "Service %s/%s not found in cluster %s", ns, name, br.cluster)
	}
	if err := br.serviceVisible(svc); err != nil {
		return backendTarget{}, err
	}
	pi := slices.IndexFunc(svc.Ports, func(sp model.ServicePort) bool { return sp.Port == port })
	if pi < 0 {
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "Service %s/%s has no port %d", ns, name, port)
	}
	if why := unsupportedAppProtocol(svc.Ports[pi]); why != "" {
		return backendTarget{}, refErrorf(gwv1.RouteReasonUnsupportedProtocol, "Service %s/%s port %d: %s", ns, name, port, why)
	}
	clusterName := ServiceClusterName(ns, name, port)
	if br.claims.outbound[clusterName] {
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound,
			"Service %s/%s port %d: cluster name %q is already used by a VirtualDestination", ns, name, port, clusterName)
	}
	return backendTarget{cluster: clusterName, service: svc, port: port}, nil
}

// serviceClustersOf lists the clusters that have a Service ns/name (the
// snapshot's index finds them: no pass over every Service per backendRef).
func serviceClustersOf(w *model.Snapshot, ns, name string) []string {
	var out []string
	for _, svc := range w.SelectServices([]model.ServiceSelector{{Namespace: ns, Name: name}}) {
		if svc.Namespace == ns && svc.Name == name { // an empty field selects any
			out = append(out, svc.Cluster)
		}
	}
	return out
}

func (br backendResolver) resolveHostname(host string, port uint32) (backendTarget, error) {
	if port == 0 {
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "Hostname %q: port is required", host)
	}
	dest, err := br.hostDestination(host, port)
	if err != nil {
		return backendTarget{}, err
	}
	return backendTarget{cluster: dest.ClusterName(), port: port, dest: dest}, nil
}

func (br backendResolver) resolveVirtualDestination(ns, name string, port uint32) (backendTarget, error) {
	vd := virtualDestination(br.w, ns, name)
	switch {
	case vd == nil:
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "VirtualDestination %s/%s not found", ns, name)
	case len(vd.Hosts) == 0:
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "VirtualDestination %s/%s has no hosts", ns, name)
	case port == 0 && len(vd.Ports) != 1:
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "VirtualDestination %s/%s has %d ports: port is required", ns, name, len(vd.Ports))
	case port == 0:
		port = vd.Ports[0].Number
	case !vdHasPort(vd, port):
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "VirtualDestination %s/%s has no port %d", ns, name, port)
	}
	ws, err := br.virtualDestinationWorkspace(vd)
	if err != nil {
		return backendTarget{}, err
	}
	return br.outboundCluster(DestinationKey{Workspace: ws, Host: vd.Hosts[0], Port: port})
}

// virtualDestination returns VirtualDestination ns/name or nil, by
// binary search: the snapshot sorts them by "namespace/name".
func virtualDestination(w *model.Snapshot, ns, name string) *model.VirtualDestination {
	vds, key := w.VirtualDestinations(), ns+"/"+name
	i, ok := slices.BinarySearchFunc(vds, key, func(vd model.VirtualDestination, k string) int {
		return strings.Compare(vd.Namespace+"/"+vd.Name, k)
	})
	if !ok {
		return nil
	}
	return &vds[i]
}

// outboundCluster names the VirtualDestination cluster for host:port, which
// buildOutbound makes for every claimed host:port: a route never points at
// a missing cluster.
func (br backendResolver) outboundCluster(key DestinationKey) (backendTarget, error) {
	name := key.ClusterName()
	if !br.claims.outbound[name] {
		return backendTarget{}, refErrorf(gwv1.RouteReasonBackendNotFound, "%s port %d: no cluster was built for it (see the VirtualDestination's diagnostics)", key.Host, key.Port)
	}
	return backendTarget{cluster: name, port: key.Port, dest: key}, nil
}

// resolveBackend resolves a backendRef for this proxy and, for a Service,
// builds its cluster (once per name; added to the output only when a route
// that is not answering 500 uses it).
func (b *gatewayBuilder) resolveBackend(route *model.HTTPRoute, ref gwv1.BackendObjectReference) (string, error) {
	t, err := b.resolver.resolve(route, ref)
	if err != nil || t.service == nil {
		return t.cluster, err
	}
	built, seen := b.serviceClusters[t.cluster]
	if !seen {
		c, cla := serviceCluster(b.w, b.p, t.service, t.port)
		if c != nil {
			built = &builtCluster{cluster: c, endpoints: cla, service: t.service, port: t.port}
		}
		b.serviceClusters[t.cluster] = built
	}
	if built == nil {
		return "", fmt.Errorf("Service %s/%s port %d: no cluster could be built for it", t.service.Namespace, t.service.Name, t.port)
	}
	return t.cluster, nil
}

func vdHasPort(vd *model.VirtualDestination, port uint32) bool {
	return slices.ContainsFunc(vd.Ports, func(p model.VirtualDestinationPort) bool { return p.Number == port })
}

// resolveRule resolves every backendRef of a rule. ok is false when any of
// them is unusable or no weight is left: the rule then answers 500 rather
// than silently shifting its traffic to the remaining backends.
// headers are the backendRefs' header filters by index (compileRule
// reports the problems of backendRef filters).
func (b *gatewayBuilder) resolveRule(route *model.HTTPRoute, ruleIdx int, rule gwv1.HTTPRouteRule, headers []headerFilters) ([]weightedBackend, bool) {
	obj := "HTTPRoute " + route.Namespace + "/" + route.Name
	ruleField := ruleField(ruleIdx)
	if len(rule.BackendRefs) == 0 {
		b.r.report(obj, ruleField+".backendRefs", "rule has no backendRefs; matching requests get 500")
		return nil, false
	}
	ok := true
	var out []weightedBackend
	for j, ref := range rule.BackendRefs {
		field := subField(ruleField, "backendRefs", j)
		weight := int32(1)
		if ref.Weight != nil {
			weight = *ref.Weight
		}
		if weight < 0 || weight > maxWeight {
			b.r.report(obj, field+".weight", "weight %d is outside 0..%d; matching requests get 500", weight, maxWeight)
			ok = false
			continue
		}
		cluster, err := b.resolveHTTPBackend(route, ref)
		if err != nil {
			b.r.report(obj, field, "%v; matching requests get 500", err)
			ok = false
			continue
		}
		if weight == 0 {
			continue
		}
		var h headerFilters
		if j < len(headers) {
			h = headers[j]
		}
		// Two refs to the same cluster add up: Envoy wants each cluster once.
		if i := slices.IndexFunc(out, func(w weightedBackend) bool { return w.cluster == cluster }); i >= 0 {
			if !out[i].headers.equal(h) {
				b.r.report(obj, field+".filters", "another backendRef of the rule routes to cluster %s with other filters; matching requests get 500", cluster)
				ok = false
			}
			out[i].weight += uint32(weight)
			continue
		}
		out = append(out, weightedBackend{cluster: cluster, weight: uint32(weight), headers: h})
	}
	if !ok {
		return nil, false
	}
	if len(out) == 0 {
		b.r.report(obj, ruleField+".backendRefs", "every backendRef has weight 0; matching requests get 500")
		return nil, false
	}
	return out, true
}

// useCluster keeps the Service cluster name (if it is one) in the output:
// called for the backends and mirrors of rules that are served.
func (b *gatewayBuilder) useCluster(route *model.HTTPRoute, name string) {
	if b.serviceClusters[name] != nil {
		b.usedServiceClusters[name] = true
		b.routeClusters[route] = append(b.routeClusters[route], name)
	}
}
