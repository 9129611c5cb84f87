package file

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/causeway-dev/causeway/model"
)

// Guard decides which reloads of a served world file are published at
// once and which must first prove they are not a write caught halfway:
// a world that drops much of what is served, or whose last line is
// unfinished, is held until the file has stayed unchanged for
// ConfirmDelay. A file that changes meanwhile replaces the held world.
// The zero Guard holds nothing.
type Guard struct {
	// ShrinkThreshold is the percentage of the served VirtualDestinations,
	// HTTPRoutes, Gateways and Services that a new world may drop and
	// still be published at once. A world dropping more, or every object
	// of one of those kinds when there were some, is held. 100 turns the
	// check off.
	ShrinkThreshold int
	// ConfirmDelay is how long the file of a held world must stay
	// unchanged before the world is published; 0 publishes at once.
	ConfirmDelay time.Duration
}

// DefaultGuard holds a world that drops more than half of what is served,
// or a whole kind, for 5 seconds: longer than an editor or a script
// pauses between writes, short enough for an intended change.
var DefaultGuard = Guard{ShrinkThreshold: 50, ConfirmDelay: 5 * time.Second}

// Check reports a Guard that cannot be applied.
func (g Guard) Check() error {
	if g.ShrinkThreshold < 0 || g.ShrinkThreshold > 100 {
		return fmt.Errorf("shrink threshold %d%%: want 0-100", g.ShrinkThreshold)
	}
	if g.ConfirmDelay < 0 {
		return fmt.Errorf("confirm delay %s: must not be negative", g.ConfirmDelay)
	}
	return nil
}

// review says why next, read from data, must be held rather than replace
// served at once; "" when it need not.
func (g Guard) review(served, next *model.Snapshot, data []byte) string {
	if g.ConfirmDelay <= 0 {
		return ""
	}
	var reasons []string
	// A writer cut short stops anywhere, usually within a line; a
	// complete YAML file ends with a newline.
	if len(data) > 0 && data[len(data)-1] != '\n' {
		reasons = append(reasons, "its last line is unfinished (no newline at the end of the file), as in a write in progress")
	}
	if served != nil && g.ShrinkThreshold < 100 {
		s := shrinkOf(served, next)
		if s.total > 0 && (s.dropped*100 > g.ShrinkThreshold*s.total || len(s.emptied) > 0) {
			reason := fmt.Sprintf("it drops %d of the %d VirtualDestinations, HTTPRoutes, Gateways and Services served", s.dropped, s.total)
			if len(s.emptied) > 0 {
				reason += " (every " + strings.Join(s.emptied, ", every ") + ")"
			}
			if s.dropped*100 > g.ShrinkThreshold*s.total {
				reason += fmt.Sprintf(", more than the %d%% threshold", g.ShrinkThreshold)
			}
			reasons = append(reasons, reason)
		}
	}
	return strings.Join(reasons, "; ")
}

// shrink is what a new world drops of the served one, counting
// VirtualDestinations, HTTPRoutes, Gateways and Services by identity.
type shrink struct {
	dropped, total int
	// emptied names the kinds the served world had and the new one has none of.
	emptied []string
}

func shrinkOf(served, next *model.Snapshot) shrink {
	var s shrink
	nsName := func(ns, name string) [2]string { return [2]string{ns, name} }
	countDropped(&s, "VirtualDestination", served.VirtualDestinations(), next.VirtualDestinations(),
		func(v model.VirtualDestination) [2]string { return nsName(v.Namespace, v.Name) })
	countDropped(&s, "HTTPRoute", served.HTTPRoutes(), next.HTTPRoutes(),
		func(r *model.HTTPRoute) [2]string { return nsName(r.Namespace, r.Name) })
	countDropped(&s, "Gateway", served.Gateways(), next.Gateways(),
		func(g *model.Gateway) [2]string { return nsName(g.Namespace, g.Name) })
	countDropped(&s, "Service", served.Services(), next.Services(),
		func(svc model.Service) model.ServiceKey { return svc.Key() })
	return s
}

func countDropped[T any, K comparable](s *shrink, kind string, served, next []T, key func(T) K) {
	if len(served) == 0 {
		return
	}
	s.total += len(served)
	if len(next) == 0 {
		s.dropped += len(served)
		s.emptied = append(s.emptied, kind)
		return
	}
	kept := make(map[K]bool, len(next))
	for _, o := range next {
		kept[key(o)] = true
	}
	for _, o := range served {
		if !kept[key(o)] {
			s.dropped++
		}
	}
}

// A file is read again after readSettle to check that no write is in
// progress, up to readTries times: a file still changing after that is
// read again on the next attempt.
const (
	readSettle = 50 * time.Millisecond
	readTries  = 10
)

// errUnstable is a file that kept changing while being read.
var errUnstable = errors.New("the world file kept changing while being read")

// readStable reads path until two reads readSettle apart return the same
// bytes, at most readTries times.
func readStable(path string) ([]byte, error) {
	prev, err := readWorld(path)
	if err != nil {
		return nil, err
	}
	for range readTries {
		time.Sleep(readSettle)
		data, err := readWorld(path)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(prev, data) {
			return data, nil
		}
		prev = data
	}
	return nil, fmt.Errorf("%s: %w (%d reads %s apart differed)", path, errUnstable, readTries+1, readSettle)
}
