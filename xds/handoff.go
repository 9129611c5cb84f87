package xds

import (
	"context"
	"time"

	"github.com/causeway-dev/causeway/model"
)

// handoffPoll is how often the handoff looks whether the streams have
// taken the handoff worlds.
const handoffPoll = 5 * time.Millisecond

// handoffTarget is a class's handoff publication, which its streams must
// take before the next world is published.
type handoffTarget struct {
	class string
	snap  *classSnapshot
}

// handoff (before rebuildAll) orders an endpoint change between gateways and east-west
// gateways, so that no request is sent to an east-west gateway that has
// dropped its endpoints or not yet learnt them: gateways get world with
// only the endpoints ready before and after (model.Handoff.Gateways),
// east-west gateways get world with the endpoints ready before kept
// (model.Handoff.EastWest), and once every stream of those classes has
// taken them (its proxy answered everything sent), or after
// handoffTimeout, or as soon as a newer world arrives, the caller
// publishes world to everyone. With only one of the roles connected there
// is nothing to order and nothing waits. It does not hold mu while it
// waits, and returns when ctx is done.
func (s *Server) handoff(ctx context.Context, world *model.Snapshot) {
	if s.handoffTimeout <= 0 {
		return
	}
	targets := s.publishHandoff(world)
	if len(targets) == 0 {
		return
	}
	start := time.Now()
	deadline := start.Add(s.handoffTimeout)
	for {
		waiting := s.unsettled(targets)
		switch {
		case waiting == 0:
			s.log.Debug("endpoint handoff done", "classes", len(targets), "took", time.Since(start))
			return
		case ctx.Err() != nil:
			return
		case s.store.Load() != world:
			s.log.Debug("endpoint handoff cut short by a newer world", "classes", len(targets), "took", time.Since(start))
			return
		case time.Now().After(deadline):
			s.log.Warn("endpoint handoff timed out; publishing the new world anyway",
				"timeout", s.handoffTimeout, "streams_waiting", waiting)
			return
		}
		time.Sleep(handoffPoll)
	}
}

// publishHandoff publishes the handoff worlds of world to every gateway
// (and client) and east-west class whose world differs from world in endpoint
// readiness, and returns the classes whose snapshot changed.
func (s *Server) publishHandoff(world *model.Snapshot) []handoffTarget {
	s.mu.Lock()
	defer s.mu.Unlock()
	var gateways, eastWest bool
	for _, c := range s.classes {
		if !c.invalid {
			// Client proxies reach east-west gateways as gateways do.
			gateways = gateways || c.proxy.Role == model.RoleGateway || c.proxy.Role == model.RoleClient
			eastWest = eastWest || c.proxy.Role == model.RoleEastWest
		}
	}
	if !gateways || !eastWest {
		return nil
	}
	handoffs := map[*model.Snapshot]*model.Handoff{} // by the world classes were built from; nil: none
	var targets []handoffTarget
	for _, c := range s.classes {
		if c.invalid || c.snap == nil || c.world == nil || c.world == world {
			continue
		}
		h, seen := handoffs[c.world]
		if !seen {
			if hw, ok := model.EndpointHandoff(c.world, world); ok {
				h = &hw
			}
			handoffs[c.world] = h
		}
		if h == nil {
			continue
		}
		next := h.Gateways
		if c.proxy.Role == model.RoleEastWest {
			next = h.EastWest
		}
		var d worldDiff
		if s.endpointsOnly != nil {
			d.endpoints, d.endpointsOnly = s.endpointsOnly(c.world, next)
		}
		before := c.snap
		s.updateLocked(c, next, d)
		if c.snap != before {
			targets = append(targets, handoffTarget{class: c.key, snap: c.snap})
		}
	}
	return targets
}

// unsettled counts the streams of the targets' classes that have not yet
// taken their class's handoff publication. A class that has published
// something newer meanwhile (or has gone) is not waited for.
func (s *Server) unsettled(targets []handoffTarget) int {
	want := make(map[string]*classSnapshot, len(targets))
	for _, t := range targets {
		if s.cache.current(t.class) == t.snap {
			want[t.class] = t.snap
		}
	}
	if len(want) == 0 {
		return 0
	}
	n := 0
	s.smu.Lock()
	defer s.smu.Unlock()
	for _, st := range s.streams {
		if snap, ok := want[st.class]; ok && st.settled.Load() != snap {
			n++
		}
	}
	return n
}
