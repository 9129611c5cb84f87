package translator

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/causeway-dev/causeway/model"
)

// fill adds to d the candidates subset selects, each with the priority,
// rule and weights the real assignment gives it, and the others as left
// out. The set, its ranking and the assignment are built by the code
// Translate runs (endpointSetFor, ranked, assignment).
func (ex *explainer) fill(d *ExplainedDestination, cands []candidate, subset *model.Subset, keys []string, proxy labelSet, rank ranking, pol vdPolicies) {
	set := endpointSetFor(cands, subset, keys, proxy)
	byKey := map[groupKey]rankedGroup{}
	for _, rg := range set.ranked(rank) {
		byKey[rg.g.groupKey] = rg
	}
	cla := set.assignment(d.Cluster, rank)
	d.Endpoints = []ExplainedEndpoint{}
	for i := range cands {
		c := &cands[i]
		if !subsetSelects(subset, c.labels) {
			d.LeftOut = append(d.LeftOut, LeftOutEndpoint{
				Service: c.object(), Cluster: c.labels.cluster, Address: c.endpoint, Locality: c.labels.locality,
				Reason: fmt.Sprintf("subset %s selects %s; the endpoint does not match", subset.Name, formatLabels(subset.Labels)),
			})
			continue
		}
		k := candidateKey(c, keys, proxy)
		rg := byKey[k]
		e := ExplainedEndpoint{
			Service: c.object(), Cluster: c.labels.cluster, Address: c.endpoint, Locality: k.locality,
			State: "ready", Priority: rg.prio, Rule: ex.rule(rg.rule, k, keys, pol, c.labels.cluster, d.Ranking),
		}
		if k.stale {
			e.State = "stale"
		}
		lle := localityEntry(cla, rg.prio, k.locality)
		if lle == nil {
			// Cannot happen: the group is in the assignment it came from.
			panic(fmt.Sprintf("explain: no locality %s priority %d in %s", k.locality, rg.prio, d.Cluster))
		}
		e.LocalityWeight = lle.GetLoadBalancingWeight().GetValue()
		if c.gateways == nil {
			e.Port, e.Weight = c.port, hostWeight(lle, c.addr, c.port)
		} else {
			for _, gw := range c.gateways {
				e.Via = append(e.Via, ExplainedGateway{Address: gw.Address, Port: gw.Port, Weight: hostWeight(lle, gw.Address, gw.Port)})
			}
		}
		d.Endpoints = append(d.Endpoints, e)
	}
}

// localityEntry is the assignment's entry for a locality at a priority.
func localityEntry(cla *endpointv3.ClusterLoadAssignment, prio uint32, l model.Locality) *endpointv3.LocalityLbEndpoints {
	for _, lle := range cla.GetEndpoints() {
		loc := lle.GetLocality()
		if lle.GetPriority() == prio && loc.GetRegion() == l.Region && loc.GetZone() == l.Zone && loc.GetSubZone() == l.Subzone {
			return lle
		}
	}
	return nil
}

// hostWeight is the load_balancing_weight of addr:port in lle.
func hostWeight(lle *endpointv3.LocalityLbEndpoints, addr string, port uint32) uint32 {
	for _, lb := range lle.GetLbEndpoints() {
		sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
		if sa.GetAddress() == addr && sa.GetPortValue() == port {
			return lb.GetLoadBalancingWeight().GetValue()
		}
	}
	return 0
}

// object names a candidate's Service or ExternalService.
func (c *candidate) object() string {
	switch {
	case c.svc != nil:
		return "Service " + c.svc.Namespace + "/" + c.svc.Name
	case c.external != nil:
		return externalObject(c.external)
	}
	return ""
}

// rule describes why a group got its priority: staleness, the label rank
// of priorityLabels, and the locality rule, most significant first (as
// groupPriority packs them).
func (ex *explainer) rule(lr levelRule, k groupKey, keys []string, pol vdPolicies, cluster, ranking string) string {
	var parts []string
	if k.stale {
		parts = append(parts, fmt.Sprintf("stale (cluster %s is out of sight): after every fresh endpoint", cluster))
	}
	if len(keys) > 0 {
		matched := len(keys) - int(k.rank)
		what := fmt.Sprintf("priorityLabels of %s: ", policyObject("FailoverPolicy", pol.failover))
		switch matched {
		case len(keys):
			what += fmt.Sprintf("matches all of %v", keys)
		case 0:
			what += fmt.Sprintf("does not match %q, the first of %v", keys[0], keys)
		default:
			what += fmt.Sprintf("matches %v, not %q", keys[:matched], keys[matched])
		}
		parts = append(parts, what)
	}
	parts = append(parts, ex.levelText(lr, pol, ranking))
	return strings.Join(parts, "; ")
}

// levelText describes a locality rule; ranking names a flat ranking's reason.
func (ex *explainer) levelText(lr levelRule, pol vdPolicies, ranking string) string {
	mapping := func() string {
		m := pol.mapping
		return fmt.Sprintf("%s localityMappings from %s", policyObject("FailoverPolicy", pol.failover), patternText(m.From.Region, m.From.Zone, m.From.SubZone))
	}
	switch lr.kind {
	case ruleFlat:
		return "one priority for every locality: " + ranking
	case ruleSameSubzone:
		return "locality: the proxy's own (same region, zone and subzone)"
	case ruleSameZone:
		return "locality: same zone as the proxy, other subzone"
	case ruleSameRegion:
		return "locality: same region as the proxy, other zone"
	case ruleOtherRegion:
		if pol.failover != nil {
			return "locality: other region (no localityMappings entry for the proxy's locality)"
		}
		return "locality: other region"
	case ruleMappedTarget:
		t := pol.mapping.To[lr.target]
		return fmt.Sprintf("%s: to[%d] %s, tried in list order", mapping(), lr.target, patternText(t.Region, t.Zone, t.SubZone))
	case ruleMappedWeighted:
		t := pol.mapping.To[lr.target]
		w := t.Weight
		if w == 0 {
			w = 1
		}
		return fmt.Sprintf("%s: to[%d] %s, weight %d (weighted targets share one priority)", mapping(), lr.target, patternText(t.Region, t.Zone, t.SubZone), w)
	case ruleUnmapped:
		return fmt.Sprintf("%s: other region, no target matches (after every target)", mapping())
	}
	return "unknown rule"
}

// patternText renders a locality pattern, unset fields as "*".
func patternText(region, zone, subzone string) string {
	or := func(s string) string {
		if s == "" {
			return "*"
		}
		return s
	}
	return or(region) + "/" + or(zone) + "/" + or(subzone)
}

func formatLabels(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// skipper returns the skipFunc that records left-out endpoints in out.
func (ex *explainer) skipper(out *[]LeftOutEndpoint) skipFunc {
	return func(svc *model.Service, ep *model.Endpoint, why skipReason) {
		*out = append(*out, ex.leftOut(svc, ep, ex.skipText(svc, why)))
	}
}

func (ex *explainer) leftOut(svc *model.Service, ep *model.Endpoint, reason string) LeftOutEndpoint {
	loc := ep.Locality
	if cl := ex.w.Cluster(svc.Cluster); loc == (model.Locality{}) && cl != nil {
		loc = cl.Locality
	}
	return LeftOutEndpoint{
		Service: "Service " + svc.Namespace + "/" + svc.Name, Cluster: svc.Cluster,
		Address: ep.Address, Locality: loc, Reason: reason,
	}
}

func (ex *explainer) skipText(svc *model.Service, why skipReason) string {
	switch why {
	case skipNotReady:
		return "not ready"
	case skipNoGateway:
		if ex.w.Cluster(svc.Cluster) == nil {
			return fmt.Sprintf("cluster %s is not a known cluster: no east-west gateway to reach it through", svc.Cluster)
		}
		return fmt.Sprintf("cluster %s has no east-west gateway: not reachable from cluster %s", svc.Cluster, ex.p.Cluster)
	case skipOtherCluster:
		return fmt.Sprintf("in cluster %s: an east-west gateway serves only its own cluster's (%s) endpoints", svc.Cluster, ex.p.Cluster)
	case skipNoTargetPort:
		return "neither the endpoint nor its Service has a port named by the VirtualDestination port's targetPort"
	case skipServiceRefRemote:
		return fmt.Sprintf("in cluster %s: a Service backendRef reaches only the proxy's cluster %s (a VirtualDestination reaches others)", svc.Cluster, ex.p.Cluster)
	}
	return "left out"
}

// otherWorkspaces reports the endpoints of Services vd selects but may not
// use: their workspace is not one vd's workspace sees.
func (ex *explainer) otherWorkspaces(vd *model.VirtualDestination, usable []*model.Service, out *[]LeftOutEndpoint) {
	ws := ex.claims.ws
	if !ws.enabled() {
		return
	}
	viewer, _ := ex.claims.workspaceOf(vd)
	for _, svc := range ex.w.SelectedServices(vd) {
		if slices.Contains(usable, svc) {
			continue
		}
		reason := fmt.Sprintf("its Service's namespace %s is in no Workspace", svc.Namespace)
		if owner, ok := ws.ofService(svc); ok {
			reason = fmt.Sprintf("its Service is in workspace %s, which workspace %s does not see: %s", owner, viewer, ws.missingLink(viewer, owner))
		}
		for i := range svc.Endpoints {
			*out = append(*out, ex.leftOut(svc, &svc.Endpoints[i], reason))
		}
	}
}
