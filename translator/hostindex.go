package translator

import (
	"cmp"
	"iter"
	"slices"
	"strings"
)

// Looking hostnames up instead of comparing them pairwise. Only a few
// hostnames can cover a host h (hostCovers): h itself, the wildcards of
// its parent domains ("*.b.c" and "*.c" for "a.b.c", or for "*.b.c"),
// and anyHost. So rather than testing every served hostname against every
// other one, which costs hostnames × routes on a busy port, each host
// looks those few candidates up: the cost is the number of labels.

// parentSuffixes yields the suffixes ".b.c", ".c" of h ("a.b.c" or
// "*.b.c"), longest first: "*" + suffix is a wildcard covering h. They are
// substrings of h, so looking them up allocates nothing.
func parentSuffixes(h string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := 1; i < len(h); i++ {
			if h[i] == '.' && !yield(h[i:]) {
				return
			}
		}
	}
}

// hostSet is a set of hostnames (anyHost included) that answers which of
// them cover a host.
type hostSet struct {
	exact map[string]bool
	// wildcards maps the suffix of each wildcard member ".b.c" to the
	// member "*.b.c".
	wildcards map[string]string
	any       bool
}

func newHostSet(hosts []string) hostSet {
	s := hostSet{exact: make(map[string]bool, len(hosts)), wildcards: map[string]string{}}
	for _, h := range hosts {
		s.exact[h] = true
		switch {
		case h == anyHost:
			s.any = true
		case strings.HasPrefix(h, "*."):
			s.wildcards[h[1:]] = h
		}
	}
	return s
}

// mostSpecificCovering returns the most specific member that covers host
// (exact, then longer wildcards, then anyHost), anyHost if none does: for
// listener hostnames, the listener a request for host belongs to.
// Candidates come most specific first (an exact name outranks every
// wildcard, a longer wildcard a shorter one), so the first member found
// is the answer.
func (s hostSet) mostSpecificCovering(host string) string {
	if s.exact[host] {
		return host
	}
	if host != anyHost {
		for suffix := range parentSuffixes(host) {
			if w, ok := s.wildcards[suffix]; ok {
				return w
			}
		}
	}
	return anyHost
}

// covers reports whether some member covers host.
func (s hostSet) covers(host string) bool {
	if s.exact[host] || s.any {
		return true
	}
	for suffix := range parentSuffixes(host) {
		if _, ok := s.wildcards[suffix]; ok {
			return true
		}
	}
	return false
}

// mostSpecificListener returns, of the listener hostnames (anyHost for a
// listener without one), the most specific that covers host: the listener
// a request for host belongs to.
func mostSpecificListener(listeners []string, host string) string {
	return newHostSet(listeners).mostSpecificCovering(host)
}

// shadowedListenerHosts returns the listener hostnames that are no served
// hostname yet but that a served hostname covers: requests for them must
// reach their own listener's routes (or none), not the covering ones.
func shadowedListenerHosts(listeners, served []string) []string {
	set := newHostSet(served)
	var out []string
	for _, l := range listeners {
		if l != anyHost && !set.exact[l] && set.covers(l) {
			out = append(out, l)
		}
	}
	return out
}

// attachmentIndex finds the attachments of a port whose hostnames cover a
// virtual host's hostname, on the listener the host belongs to. Keys are
// the listener hostname and an attachment hostname (a wildcard by its
// suffix); values are positions in the port's attachment list, ascending.
type attachmentIndex struct {
	exact     map[listenerHostKey][]int
	wildcards map[listenerHostKey][]int
	any       map[string][]int // by listener hostname
}

type listenerHostKey struct{ listener, host string }

func newAttachmentIndex(attached []attachment) attachmentIndex {
	ix := attachmentIndex{exact: map[listenerHostKey][]int{}, wildcards: map[listenerHostKey][]int{}, any: map[string][]int{}}
	for i, a := range attached {
		for _, g := range a.hostnames { // sorted and unique
			switch {
			case g == anyHost:
				ix.any[a.listener] = append(ix.any[a.listener], i)
			case strings.HasPrefix(g, "*."):
				k := listenerHostKey{a.listener, g[1:]}
				ix.wildcards[k] = append(ix.wildcards[k], i)
			default:
				k := listenerHostKey{a.listener, g}
				ix.exact[k] = append(ix.exact[k], i)
			}
		}
	}
	return ix
}

// coveringAttachment is an attachment that serves a host, with the most
// specific of its hostnames covering the host: its rules rank by it.
type coveringAttachment struct {
	index int
	spec  hostSpecificity
}

// covering returns the attachments on listener whose hostnames cover
// host, in attachment order, each with its most specific covering
// hostname's specificity, as comparing host with every attachment would.
// buf is reused for the result.
func (ix attachmentIndex) covering(listener, host string, buf []coveringAttachment) []coveringAttachment {
	out := buf[:0]
	add := func(list []int, spec hostSpecificity) {
		for _, i := range list {
			out = append(out, coveringAttachment{i, spec})
		}
	}
	add(ix.exact[listenerHostKey{listener, host}], specificityOf(host))
	if host != anyHost {
		for suffix := range parentSuffixes(host) {
			// "*"+suffix has len(suffix)+1 characters and no exact part.
			add(ix.wildcards[listenerHostKey{listener, suffix}], hostSpecificity{chars: len(suffix) + 1})
		}
	}
	add(ix.any[listener], hostSpecificity{})
	// An attachment found through several of its hostnames keeps the most
	// specific: the first found (candidates come most specific first), so
	// a stable sort by position and keeping the first of each run does it.
	slices.SortStableFunc(out, func(a, b coveringAttachment) int { return cmp.Compare(a.index, b.index) })
	return slices.CompactFunc(out, func(a, b coveringAttachment) bool { return a.index == b.index })
}
