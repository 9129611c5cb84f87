package translator

import (
	"fmt"
	"slices"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// weightedBackend is a resolved backendRef: the Envoy cluster and its share.
type weightedBackend struct {
	cluster string
	weight  uint32
}

// maxWeight is the Gateway API's limit; it keeps Envoy's weight sum in range.
const maxWeight = 1000000

// builtCluster is a cluster made for a Service backendRef, kept until some
// route that is not answering 500 uses it.
type builtCluster struct {
	cluster   *clusterv3.Cluster
	endpoints *endpointv3.ClusterLoadAssignment
}

// Backend kinds a HTTPRoute may name.
const (
	kindService            = "Service"
	kindHostname           = "Hostname"
	kindVirtualDestination = "VirtualDestination"
)

// resolveBackend maps one backendRef of route to the Envoy cluster that
// serves it, or explains why it cannot. Service backends get their cluster
// built here (once per name, added to the output only when a route uses
// it); VirtualDestination clusters come from buildOutbound.
func (b *gatewayBuilder) resolveBackend(route *model.HTTPRoute, ref gwv1.BackendObjectReference) (string, error) {
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
			return "", fmt.Errorf("%s %q: port %d is out of range", kind, name, *ref.Port)
		}
		port = uint32(*ref.Port)
	}

	switch {
	case (group == "" || group == "core") && kind == kindService:
		return b.resolveService(ns, name, port)
	case (group == model.IstioAPIGroup || group == model.APIGroup) && kind == kindHostname:
		if ref.Namespace != nil {
			return "", fmt.Errorf("Hostname %q: namespace must not be set on a Hostname backendRef", name)
		}
		return b.resolveHostname(name, port)
	case group == model.APIGroup && kind == kindVirtualDestination:
		return b.resolveVirtualDestination(ns, name, port)
	default:
		return "", fmt.Errorf("backendRef group %q kind %q is not supported (use Service, Hostname of %s or %s, or VirtualDestination of %s)",
			group, kind, model.IstioAPIGroup, model.APIGroup, model.APIGroup)
	}
}

func (b *gatewayBuilder) resolveService(ns, name string, port uint32) (string, error) {
	if port == 0 {
		return "", fmt.Errorf("Service %s/%s: port is required", ns, name)
	}
	svc := b.w.Service(model.ServiceKey{Cluster: b.p.Cluster, Namespace: ns, Name: name})
	if svc == nil {
		if elsewhere := b.serviceClustersOf(ns, name); len(elsewhere) > 0 {
			return "", fmt.Errorf("Service %s/%s not found in cluster %s (it is in %v; a Service backendRef only reaches the gateway's own cluster, use a VirtualDestination to reach others)",
				ns, name, b.p.Cluster, elsewhere)
		}
		return "", fmt.Errorf("Service %s/%s not found in cluster %s", ns, name, b.p.Cluster)
	}
	if !slices.ContainsFunc(svc.Ports, func(sp model.ServicePort) bool { return sp.Port == port }) {
		return "", fmt.Errorf("Service %s/%s has no port %d", ns, name, port)
	}
	clusterName := ServiceClusterName(ns, name, port)
	if b.otherClusters[clusterName] {
		return "", fmt.Errorf("Service %s/%s port %d: cluster name %q is already used by a VirtualDestination", ns, name, port, clusterName)
	}
	built, seen := b.serviceClusters[clusterName]
	if !seen {
		c, cla := serviceCluster(b.w, b.p, svc, port)
		if c != nil {
			built = &builtCluster{cluster: c, endpoints: cla}
		}
		b.serviceClusters[clusterName] = built
	}
	if built == nil {
		return "", fmt.Errorf("Service %s/%s port %d: no cluster could be built for it", ns, name, port)
	}
	return clusterName, nil
}

// serviceClustersOf lists the clusters that have a Service ns/name.
func (b *gatewayBuilder) serviceClustersOf(ns, name string) []string {
	var out []string
	for _, svc := range b.w.Services() {
		if svc.Namespace == ns && svc.Name == name {
			out = append(out, svc.Cluster)
		}
	}
	return out
}

func (b *gatewayBuilder) resolveHostname(host string, port uint32) (string, error) {
	if port == 0 {
		return "", fmt.Errorf("Hostname %q: port is required", host)
	}
	for i := range b.w.VirtualDestinations() {
		vd := &b.w.VirtualDestinations()[i]
		if slices.Contains(vd.Hosts, host) && vdHasPort(vd, port) {
			return b.outboundCluster(host, port)
		}
	}
	return "", fmt.Errorf("Hostname %q port %d: no VirtualDestination serves this host and port", host, port)
}

func (b *gatewayBuilder) resolveVirtualDestination(ns, name string, port uint32) (string, error) {
	var vd *model.VirtualDestination
	for i := range b.w.VirtualDestinations() {
		if c := &b.w.VirtualDestinations()[i]; c.Namespace == ns && c.Name == name {
			vd = c
			break
		}
	}
	switch {
	case vd == nil:
		return "", fmt.Errorf("VirtualDestination %s/%s not found", ns, name)
	case len(vd.Hosts) == 0:
		return "", fmt.Errorf("VirtualDestination %s/%s has no hosts", ns, name)
	case port == 0 && len(vd.Ports) != 1:
		return "", fmt.Errorf("VirtualDestination %s/%s has %d ports: port is required", ns, name, len(vd.Ports))
	case port == 0:
		port = vd.Ports[0].Number
	case !vdHasPort(vd, port):
		return "", fmt.Errorf("VirtualDestination %s/%s has no port %d", ns, name, port)
	}
	return b.outboundCluster(vd.Hosts[0], port)
}

// outboundCluster names the VirtualDestination cluster for host:port, which
// buildOutbound must have made: a route never points at a missing cluster.
func (b *gatewayBuilder) outboundCluster(host string, port uint32) (string, error) {
	name := OutboundClusterName(host, port)
	if !b.otherClusters[name] {
		return "", fmt.Errorf("%s port %d: no cluster was built for it (see the VirtualDestination's diagnostics)", host, port)
	}
	return name, nil
}

func vdHasPort(vd *model.VirtualDestination, port uint32) bool {
	return slices.ContainsFunc(vd.Ports, func(p model.VirtualDestinationPort) bool { return p.Number == port })
}

// resolveRule resolves every backendRef of a rule. ok is false when any of
// them is unusable or no weight is left: the rule then answers 500 rather
// than silently shifting its traffic to the remaining backends.
func (b *gatewayBuilder) resolveRule(route *model.HTTPRoute, ruleIdx int, rule gwv1.HTTPRouteRule) ([]weightedBackend, bool) {
	obj := "HTTPRoute " + route.Namespace + "/" + route.Name
	ruleField := fmt.Sprintf("spec.rules[%d]", ruleIdx)
	if len(rule.BackendRefs) == 0 {
		b.r.report(obj, ruleField+".backendRefs", "rule has no backendRefs; matching requests get 500")
		return nil, false
	}
	ok := true
	var out []weightedBackend
	for j, ref := range rule.BackendRefs {
		field := fmt.Sprintf("%s.backendRefs[%d]", ruleField, j)
		for k, f := range ref.Filters {
			b.r.report(obj, fmt.Sprintf("%s.filters[%d]", field, k), "backendRef filter %q is not supported; ignored", f.Type)
		}
		weight := int32(1)
		if ref.Weight != nil {
			weight = *ref.Weight
		}
		if weight < 0 || weight > maxWeight {
			b.r.report(obj, field+".weight", "weight %d is outside 0..%d; matching requests get 500", weight, maxWeight)
			ok = false
			continue
		}
		cluster, err := b.resolveBackend(route, ref.BackendObjectReference)
		if err != nil {
			b.r.report(obj, field, "%v; matching requests get 500", err)
			ok = false
			continue
		}
		if weight == 0 {
			continue
		}
		// Two refs to the same cluster add up: Envoy wants each cluster once.
		if i := slices.IndexFunc(out, func(w weightedBackend) bool { return w.cluster == cluster }); i >= 0 {
			out[i].weight += uint32(weight)
			continue
		}
		out = append(out, weightedBackend{cluster: cluster, weight: uint32(weight)})
	}
	if !ok {
		return nil, false
	}
	if len(out) == 0 {
		b.r.report(obj, ruleField+".backendRefs", "every backendRef has weight 0; matching requests get 500")
		return nil, false
	}
	for _, wb := range out {
		if b.serviceClusters[wb.cluster] != nil {
			b.usedServiceClusters[wb.cluster] = true
		}
	}
	return out, true
}
