package translator

import (
	"cmp"
	"fmt"
	"slices"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/causeway-dev/causeway/model"
)

// explainer holds what Explain computed once for the world and proxy.
type explainer struct {
	w        *model.Snapshot // scoped to workspaces, as Translate sees it
	p        model.Proxy
	claims   *hostPortClaims
	policies policyIndex // gateway proxies only
	// routeConfigs are the proxy's routes, once asked for (gatewayRoutes).
	routeConfigs []*routev3.RouteConfiguration
}

// standingClaims lists the standing claims of host (port 0: any port) in
// port, then claim order.
func (ex *explainer) standingClaims(host string, port uint32) []*claim {
	var out []*claim
	for hp, cls := range ex.claims.winners {
		if hp.host == host && (port == 0 || hp.port == port) {
			out = append(out, cls...)
		}
	}
	slices.SortStableFunc(out, func(a, b *claim) int {
		if c := cmp.Compare(a.port, b.port); c != 0 {
			return c
		}
		if a.precedes(b) {
			return -1
		}
		return 1
	})
	return out
}

func (ex *explainer) hasDestinationHost(host string) bool {
	for hp := range ex.claims.winners {
		if hp.host == host {
			return true
		}
	}
	return false
}

// destinationsOfHost explains every destination standing for host (and
// port, when not 0), and notes the claims of it that lost.
func (ex *explainer) destinationsOfHost(host string, port uint32) ([]ExplainedDestination, []string) {
	var (
		out   []ExplainedDestination
		notes []string
	)
	for _, cl := range ex.standingClaims(host, port) {
		switch obj := cl.key.obj.(type) {
		case *model.VirtualDestination:
			ds, note := ex.virtualDestination(obj, cl.key.port, cl.key.host, nil)
			out = append(out, ds...)
			if note != "" {
				notes = append(notes, note)
			}
		case *federatedHost:
			if d, ok := ex.federated(obj); ok {
				out = append(out, d)
			} else {
				notes = append(notes, fmt.Sprintf("%s: an east-west gateway of cluster %s serves only its own cluster's federated Services", obj.object(), ex.p.Cluster))
			}
		default:
			notes = append(notes, fmt.Sprintf("%s serves %s port %d: its own cluster lists its endpoints as written, all at priority 0 (not explained further)", cl.object, host, cl.port))
		}
	}
	for k, winner := range ex.claims.lost {
		var claimed, object string
		switch obj := k.obj.(type) {
		case *model.VirtualDestination:
			claimed, object = obj.Hosts[k.host], vdObject(obj)
		case *model.ExternalService:
			claimed, object = obj.Spec.Hosts[k.host], externalObject(obj)
		}
		if claimed == host && (port == 0 || winner.port == port) {
			notes = append(notes, object+": "+ex.claims.lostMessage(host, winner))
		}
	}
	slices.Sort(notes)
	return out, notes
}

// virtualDestination explains vd's destinations for port portIndex and host
// hostIndex: the whole destination and each subset (only the subset named
// by only, "" for the whole destination, when only is not nil). For an east-west proxy without a local Service there are none,
// and the note says why.
func (ex *explainer) virtualDestination(vd *model.VirtualDestination, portIndex, hostIndex int, only *string) ([]ExplainedDestination, string) {
	selected := ex.claims.selectedServices(ex.w, vd)
	base := ex.claims.destination(vd, portIndex, hostIndex)
	var (
		cands     []candidate
		left      []LeftOutEndpoint
		rank      ranking = flatPriority
		rankName          = "flat (trafficDistribution unset)"
		keys      []string
		proxyLbls labelSet
		pol       vdPolicies
	)
	skipped := ex.skipper(&left)
	ex.otherWorkspaces(vd, selected, &left)
	switch ex.p.Role {
	case model.RoleGateway, model.RoleClient:
		pol = ex.policies[vd]
		rank, rankName = ex.vdRanking(vd, pol)
		keys, proxyLbls = pol.labels, labelSet{cluster: ex.p.Cluster, locality: ex.p.Locality}
		cands = collectCandidates(ex.w, ex.p, vd, portIndex, selected, selectedExternalServices(ex.w, ex.claims, vd), true, &Resources{}, skipped)
	case model.RoleEastWest:
		rankName = "flat (an east-west gateway forwards to its own cluster's endpoints)"
		if len(localServices(selected, ex.p.Cluster)) == 0 {
			return nil, fmt.Sprintf("%s selects no Service in cluster %s: its east-west gateway has no chain for %s port %d",
				vdObject(vd), ex.p.Cluster, base.Host, base.Port)
		}
		cands = collectCandidates(ex.w, ex.p, vd, portIndex, selected, nil, false, &Resources{}, skipped)
	}
	cands = slices.Clone(cands) // collectCandidates' buffer belongs to its Resources
	subsets := subsetsOf(vd, nil)
	var out []ExplainedDestination
	for si := -1; si < len(subsets); si++ {
		key, subset := base, (*model.Subset)(nil)
		if si >= 0 {
			subset = &subsets[si]
			key.Subset = subset.Name
		}
		if only != nil && key.Subset != *only {
			continue
		}
		d := ExplainedDestination{
			Cluster: ex.clusterName(key), Object: vdObject(vd), Host: key.Host, Port: key.Port,
			Subset: key.Subset, Workspace: key.Workspace, Ranking: rankName,
		}
		d.LeftOut = slices.Clone(left)
		ex.fill(&d, cands, subset, keys, proxyLbls, rank, pol)
		out = append(out, d)
	}
	return out, ""
}

// clusterName is the proxy's cluster name for a destination.
func (ex *explainer) clusterName(k DestinationKey) string {
	if ex.p.Role == model.RoleEastWest {
		return k.InboundName()
	}
	return k.ClusterName()
}

// vdRanking is outboundVD's choice of ranking, and its name.
func (ex *explainer) vdRanking(vd *model.VirtualDestination, pol vdPolicies) (ranking, string) {
	r := rankingFor(vd, pol, ex.p.Locality)
	if !pol.prioritized(vd) {
		return r, "flat (trafficDistribution unset)"
	}
	name := "PreferClose"
	switch {
	case pol.failover != nil:
		name = "FailoverPolicy " + pol.failover.Namespace + "/" + pol.failover.Name
		if vd.TrafficDistribution == model.TrafficDistributionPreferClose {
			name = "PreferClose, " + name
		}
	case vd.TrafficDistribution != model.TrafficDistributionPreferClose:
		name = "PreferClose (turned on by OutlierDetectionPolicy " + pol.outlier.Namespace + "/" + pol.outlier.Name + ")"
	}
	return r, name
}

// federated explains a federated hostname's destination (false: an
// east-west proxy of another cluster has none).
func (ex *explainer) federated(fh *federatedHost) (ExplainedDestination, bool) {
	remote := routesOutbound(ex.p)
	if !remote && fh.svc.Cluster != ex.p.Cluster {
		return ExplainedDestination{}, false
	}
	d := ExplainedDestination{
		Cluster: ex.clusterName(fh.key), Object: fh.object(), Host: fh.key.Host, Port: fh.key.Port,
		Workspace: fh.key.Workspace, Ranking: "flat (federated hostname)",
	}
	cands := federatedCandidates(ex.w, ex.p, fh, remote, ex.skipper(&d.LeftOut))
	ex.fill(&d, cands, nil, nil, labelSet{}, flatPriority, vdPolicies{})
	return d, true
}

// service explains the cluster of a Service backendRef: svc in the
// proxy's cluster; its namesakes elsewhere are left out.
func (ex *explainer) service(svc *model.Service, sp model.ServicePort) ExplainedDestination {
	d := ExplainedDestination{
		Cluster: ServiceClusterName(svc.Namespace, svc.Name, sp.Port), Object: "Service " + svc.Cluster + "/" + svc.Namespace + "/" + svc.Name,
		Port: sp.Port, Ranking: "flat (Service backendRef)",
	}
	skipped := ex.skipper(&d.LeftOut)
	services := ex.w.Services()
	for i := range services {
		if o := &services[i]; o.Namespace == svc.Namespace && o.Name == svc.Name && o.Cluster != ex.p.Cluster {
			serviceCandidates(ex.w, ex.p, o, sp, skipped)
		}
	}
	ex.fill(&d, serviceCandidates(ex.w, ex.p, svc, sp, skipped), nil, nil, labelSet{}, flatPriority, vdPolicies{})
	return d
}

// destinationByCluster explains the destination an Envoy cluster name of
// the proxy stands for (false: none Explain knows, e.g. an
// ExternalService's own cluster).
func (ex *explainer) destinationByCluster(name string) (ExplainedDestination, bool) {
	for _, cls := range ex.claims.winners {
		for _, cl := range cls {
			switch obj := cl.key.obj.(type) {
			case *model.VirtualDestination:
				base := ex.claims.destination(obj, cl.key.port, cl.key.host)
				for _, sub := range append([]string{""}, subsetNames(subsetsOf(obj, nil))...) {
					k := base
					k.Subset = sub
					if ex.clusterName(k) != name {
						continue
					}
					ds, _ := ex.virtualDestination(obj, cl.key.port, cl.key.host, &sub)
					for _, d := range ds {
						if d.Cluster == name {
							return d, true
						}
					}
				}
			case *federatedHost:
				if ex.clusterName(obj.key) == name {
					return ex.federated(obj)
				}
			}
		}
	}
	services := ex.w.Services()
	for i := range services {
		svc := &services[i]
		if svc.Cluster != ex.p.Cluster {
			continue
		}
		for _, sp := range svc.Ports {
			if ServiceClusterName(svc.Namespace, svc.Name, sp.Port) == name {
				return ex.service(svc, sp), true
			}
		}
	}
	return ExplainedDestination{}, false
}
