package translator

import (
	"fmt"

	"github.com/causeway-dev/causeway/model"
)

// candidate is one ready backend endpoint of a VirtualDestination port, as
// the proxy reaches it, before subset selection and ranking: directly
// (addr:port) or, for an endpoint of a remote cluster, through that
// cluster's east-west gateways.
type candidate struct {
	labels   labelSet // cluster ("" for an ExternalService), locality and labels
	stale    bool
	addr     string
	port     uint32
	gateways []model.GatewayAddress // set: reached through these
	// Where it comes from, for explanations: its Service (nil for an
	// ExternalService's) and its own address (addr is empty when the
	// proxy reaches it through gateways).
	svc      *model.Service
	external *model.ExternalService
	endpoint string
}

// skipFunc hears of each endpoint collectCandidates leaves out, and why
// (explain.go lists them); nil when nobody asks.
type skipFunc func(svc *model.Service, ep *model.Endpoint, reason skipReason)

// readyOrSkip reports whether ep is ready to be a candidate; when not, it
// tells skipped (if set).
func readyOrSkip(svc *model.Service, ep *model.Endpoint, skipped skipFunc) bool {
	if !ep.Ready && skipped != nil {
		skipped(svc, ep, skipNotReady)
	}
	return ep.Ready
}

// endpointLocality is ep's own locality, else that of its cluster (cl,
// which may be nil).
func endpointLocality(ep *model.Endpoint, cl *model.Cluster) model.Locality {
	if ep.Locality == (model.Locality{}) && cl != nil {
		return cl.Locality
	}
	return ep.Locality
}

// skipReason is why an endpoint is not a candidate.
type skipReason uint8

const (
	skipNotReady         skipReason = iota + 1 // not ready
	skipNoGateway                              // its cluster has no east-west gateway (or is unknown)
	skipOtherCluster                           // an east-west proxy serves only its own cluster
	skipNoTargetPort                           // no port by the VirtualDestination port's targetPort name
	skipSubset                                 // the subset does not select it (endpointSetFor)
	skipOtherWorkspace                         // its Service is in a workspace the destination does not see
	skipServiceRefRemote                       // a Service backendRef uses the proxy's own cluster only
)

// collectCandidates lists, for port portIndex of vd, the ready endpoints of
// services (those in the proxy's cluster directly; the others, when remote
// is true, behind their cluster's east-west gateways) and the IP endpoints
// of externals (always directly; never through an east-west gateway, so
// east-west proxies pass none). Remote clusters without gateways are
// skipped here; reportUnreachableClusters reports them.
func collectCandidates(w *model.Snapshot, p model.Proxy, vd *model.VirtualDestination, portIndex int,
	services []*model.Service, externals []*model.ExternalService, remote bool, r *Resources, skipped skipFunc) []candidate {
	vp := vd.Ports[portIndex]
	n := 0
	for _, svc := range services {
		n += len(svc.Endpoints)
	}
	// The candidates live only until the caller has built its endpoint
	// sets, so one buffer serves every call of a translation.
	out := r.candidates[:0]
	if cap(out) < n {
		out = make([]candidate, 0, n)
	}
	defer func() { r.candidates = out[:0] }()
	for _, svc := range services {
		local := svc.Cluster == p.Cluster
		cl := w.Cluster(svc.Cluster)
		if !local && (!remote || cl == nil || len(cl.EastWestGateways) == 0) {
			if skipped != nil {
				why := skipNoGateway
				if !remote {
					why = skipOtherCluster
				}
				skipAll(svc, why, skipped)
			}
			continue
		}
		unresolved := false
		for i := range svc.Endpoints {
			ep := &svc.Endpoints[i]
			if !readyOrSkip(svc, ep, skipped) {
				continue
			}
			port, ok := endpointPort(vp, svc, ep)
			if !ok {
				unresolved = true
				if skipped != nil {
					skipped(svc, ep, skipNoTargetPort)
				}
				continue
			}
			loc := endpointLocality(ep, cl)
			c := candidate{
				labels: labelSet{cluster: svc.Cluster, locality: loc, own: ep.Labels, parent: svc.Labels},
				stale:  ep.Stale,
				svc:    svc, endpoint: ep.Address,
			}
			if local {
				c.addr, c.port = ep.Address, port
			} else {
				c.gateways = cl.EastWestGateways
			}
			out = append(out, c)
		}
		if unresolved {
			r.report(vdObject(vd), fmt.Sprintf("spec.ports[%d].targetPort.name", portIndex),
				"Service %s/%s in cluster %s has no port named %q; its endpoints are not used",
				svc.Namespace, svc.Name, svc.Cluster, vp.TargetPort.Name)
		}
	}
	for _, es := range externals {
		out = append(out, externalCandidates(vd, portIndex, es, r)...)
	}
	return out
}

// skipAll reports every endpoint of svc skipped for why, except those not
// ready (reported as such: readiness would leave them out anyway).
func skipAll(svc *model.Service, why skipReason, skipped skipFunc) {
	for i := range svc.Endpoints {
		ep := &svc.Endpoints[i]
		if !ep.Ready {
			skipped(svc, ep, skipNotReady)
		} else {
			skipped(svc, ep, why)
		}
	}
}

// candidateKey is the group a candidate falls in: its locality, staleness
// and label rank under the priorityLabels keys (none: rank 0).
func candidateKey(c *candidate, keys []string, proxy labelSet) groupKey {
	k := groupKey{locality: c.labels.locality, stale: c.stale}
	if len(keys) > 0 {
		k.rank = labelRank(keys, proxy, c.labels)
	}
	return k
}

// endpointSetFor builds the endpoint set of the candidates subset selects
// (nil: all), each in the group of its locality, staleness and label rank
// under the priorityLabels keys (none: rank 0).
func endpointSetFor(cands []candidate, subset *model.Subset, keys []string, proxy labelSet) *endpointSet {
	set := newEndpointSet()
	for i := range cands {
		c := &cands[i]
		if !subsetSelects(subset, c.labels) {
			continue
		}
		k := candidateKey(c, keys, proxy)
		if c.gateways != nil {
			set.addRemoteRanked(k, c.labels.cluster, c.gateways)
		} else {
			set.addLocalRanked(k, c.addr, c.port)
		}
	}
	return set
}
