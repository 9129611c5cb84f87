package translator

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The hostname index must give exactly what comparing every pair gives.
// These are the pairwise definitions it replaced, checked against it on
// random hostnames drawn from a few labels (so that exact names, nested
// wildcards and anyHost collide often).

func pairwiseMostSpecificListener(listeners []string, host string) string {
	best, found := anyHost, false
	for _, l := range listeners {
		if hostCovers(l, host) && (!found || specificityOf(l).moreSpecific(specificityOf(best))) {
			best, found = l, true
		}
	}
	return best
}

func pairwiseShadowedListenerHosts(listeners, served []string) []string {
	var out []string
	for _, l := range listeners {
		if l == anyHost || slices.Contains(served, l) {
			continue
		}
		if slices.ContainsFunc(served, func(h string) bool { return hostCovers(h, l) }) {
			out = append(out, l)
		}
	}
	return out
}

func pairwiseCovering(attached []attachment, listener, host string) []coveringAttachment {
	var out []coveringAttachment
	for i, a := range attached {
		if a.listener != listener {
			continue
		}
		best, found := hostSpecificity{}, false
		for _, g := range a.hostnames {
			if s := specificityOf(g); hostCovers(g, host) && (!found || s.moreSpecific(best)) {
				best, found = s, true
			}
		}
		if found {
			out = append(out, coveringAttachment{i, best})
		}
	}
	return out
}

func randomHostname(rng *rand.Rand) string {
	if rng.IntN(12) == 0 {
		return anyHost
	}
	labels := []string{"a", "b", "example", "com"}
	n := 1 + rng.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = labels[rng.IntN(len(labels))]
	}
	if rng.IntN(3) == 0 {
		parts = append([]string{"*"}, parts...)
	}
	return strings.Join(parts, ".")
}

func randomHostnames(rng *rand.Rand, max int) []string {
	out := make([]string, rng.IntN(max+1))
	for i := range out {
		out[i] = randomHostname(rng)
	}
	return out
}

func TestHostIndexMatchesPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	for round := range 2000 {
		listeners := randomHostnames(rng, 4)
		var attached []attachment
		var served []string
		for range rng.IntN(8) {
			a := attachment{hostnames: sortedUnique(randomHostnames(rng, 3))}
			a.listener = anyHost
			if len(listeners) > 0 {
				a.listener = listeners[rng.IntN(len(listeners))]
			}
			attached = append(attached, a)
			served = append(served, a.hostnames...)
		}
		if diff := cmp.Diff(pairwiseShadowedListenerHosts(listeners, served), shadowedListenerHosts(listeners, served)); diff != "" {
			t.Fatalf("round %d: shadowedListenerHosts(%q, %q) (-pairwise +indexed):\n%s", round, listeners, served, diff)
		}
		index, set := newAttachmentIndex(attached), newHostSet(listeners)
		var buf []coveringAttachment
		for _, h := range append(served, randomHostnames(rng, 4)...) {
			want := pairwiseMostSpecificListener(listeners, h)
			if got := set.mostSpecificCovering(h); got != want {
				t.Fatalf("round %d: most specific listener of %q among %q = %q, want %q", round, h, listeners, got, want)
			}
			buf = index.covering(want, h, buf)
			if diff := cmp.Diff(pairwiseCovering(attached, want, h), buf, cmp.AllowUnexported(coveringAttachment{}, hostSpecificity{}), cmpEmptyNil); diff != "" {
				t.Fatalf("round %d: attachments covering %q on listener %q of %+v (-pairwise +indexed):\n%s", round, h, want, attached, diff)
			}
		}
	}
}

// cmpEmptyNil treats a nil and an empty slice alike.
var cmpEmptyNil = cmp.FilterValues(func(x, y []coveringAttachment) bool { return len(x) == 0 && len(y) == 0 }, cmp.Ignore())
