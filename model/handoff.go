package model

import (
	"slices"
	"strconv"
	"strings"
)

// Handoff holds the two worlds that take proxies from one world to the
// next without sending a request where nobody forwards it any more, or
// not yet (EndpointHandoff). Publish Gateways to gateways and EastWest to
// east-west gateways, wait until both have it, then publish the next world
// to everyone.
type Handoff struct {
	// Gateways is the next world with an endpoint ready only if it is ready
	// in both worlds: gateways stop sending to endpoints that leave at
	// once, and send to endpoints that arrive only in the next world.
	Gateways *Snapshot
	// EastWest is the next world in which every endpoint ready in the
	// previous world is still ready (and present): east-west gateways learn
	// arriving endpoints at once and keep leaving ones until the next world.
	EastWest *Snapshot
}

// EndpointHandoff returns the handoff worlds between prev and next. ok is
// false when there is nothing to hand off: next differs from prev in more
// than Service endpoints (EndpointsOnlyDiff), or no endpoint became ready
// or stopped being ready (appeared, left). A world that needs no change
// is next itself.
//
// Endpoints are told apart by address and ports; a changed endpoint (new
// labels or locality, say) is taken from next in both worlds.
func EndpointHandoff(prev, next *Snapshot) (h Handoff, ok bool) {
	changed, ok := EndpointsOnlyDiff(prev, next)
	if !ok || len(changed) == 0 {
		return Handoff{}, false
	}
	var gw, ew []Service
	for k := range changed {
		before, after := prev.Service(k), next.Service(k)
		if before == nil || after == nil {
			return Handoff{}, false
		}
		if svc, moved := onlyReadyInBoth(before, after); moved {
			gw = append(gw, svc)
		}
		if svc, moved := readyInEither(before, after); moved {
			ew = append(ew, svc)
		}
	}
	if len(gw) == 0 && len(ew) == 0 {
		return Handoff{}, false
	}
	h = Handoff{Gateways: next, EastWest: next}
	if len(gw) > 0 {
		if h.Gateways, ok = next.With(Changes{Services: gw}); !ok {
			return Handoff{}, false
		}
	}
	if len(ew) > 0 {
		if h.EastWest, ok = next.With(Changes{Services: ew}); !ok {
			return Handoff{}, false
		}
	}
	return h, true
}

// onlyReadyInBoth is after with the endpoints not ready in before marked
// not ready; moved says whether any was.
func onlyReadyInBoth(before, after *Service) (Service, bool) {
	was := readyEndpoints(before)
	svc := *after
	svc.Endpoints = nil
	moved := false
	for _, ep := range after.Endpoints {
		if ep.Ready && !was[endpointID(&ep)] {
			ep.Ready, moved = false, true
		}
		svc.Endpoints = append(svc.Endpoints, ep)
	}
	return svc, moved
}

// readyInEither is after with the endpoints ready in before ready again,
// and added back (as they were) when after lacks them; moved says whether
// any was.
func readyInEither(before, after *Service) (Service, bool) {
	was := readyEndpoints(before)
	svc := *after
	svc.Endpoints = nil
	moved := false
	present := make(map[string]bool, len(after.Endpoints))
	for _, ep := range after.Endpoints {
		id := endpointID(&ep)
		present[id] = true
		if !ep.Ready && was[id] {
			ep.Ready, moved = true, true
		}
		svc.Endpoints = append(svc.Endpoints, ep)
	}
	for _, ep := range before.Endpoints {
		if id := endpointID(&ep); ep.Ready && !present[id] {
			present[id] = true
			svc.Endpoints, moved = append(svc.Endpoints, ep), true
		}
	}
	return svc, moved
}

// readyEndpoints are the ids of svc's ready endpoints.
func readyEndpoints(svc *Service) map[string]bool {
	out := make(map[string]bool, len(svc.Endpoints))
	for i := range svc.Endpoints {
		if ep := &svc.Endpoints[i]; ep.Ready {
			out[endpointID(ep)] = true
		}
	}
	return out
}

// endpointID is an endpoint's address and ports.
func endpointID(ep *Endpoint) string {
	ports := make([]string, 0, len(ep.Ports))
	for _, p := range ep.Ports {
		ports = append(ports, p.Name+"="+strconv.FormatUint(uint64(p.Port), 10))
	}
	slices.Sort(ports)
	return ep.Address + "|" + strings.Join(ports, ",")
}
