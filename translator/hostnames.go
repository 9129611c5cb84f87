package translator

import (
	"net"
	"slices"
	"strings"
)

// Gateway API hostnames: RFC 1123 names, optionally with a leading "*."
// wildcard label that stands for one or more labels. "*" alone (no hostname
// at all) matches every host.

const anyHost = "*"

// validHostname reports whether h (already lower-cased) is a Gateway API
// hostname Envoy can use as a virtual host domain: at most 253 characters,
// an optional leading "*." and then dot-separated labels of a-z, 0-9 and
// "-" that neither start nor end with "-" (what
// `^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
// accepts; hostnames_test.go checks the two agree), and not an IP address.
// Hand-written: the regexp was most of attaching 100k routes.
func validHostname(h string) bool {
	if len(h) > 253 || !hostnameLabelsValid(strings.TrimPrefix(h, "*.")) {
		return false
	}
	return net.ParseIP(h) == nil
}

// hostnameLabelsValid reports whether s is one or more dot-separated
// non-empty labels of [a-z0-9-], none starting or ending with "-".
func hostnameLabelsValid(s string) bool {
	if s == "" {
		return false
	}
	start := 0 // of the current label
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if i == start || s[start] == '-' || s[i-1] == '-' {
				return false
			}
			start = i + 1
			continue
		}
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// hostCovers reports whether every host that specific matches is also
// matched by general.
func hostCovers(general, specific string) bool {
	switch {
	case general == anyHost || general == specific:
		return true
	case strings.HasPrefix(general, "*."):
		suffix := general[1:] // ".example.com"
		return len(specific) > len(suffix) && strings.HasSuffix(specific, suffix) && specific != anyHost
	default:
		return false
	}
}

// intersectHostnames returns the hostnames a route attached to a listener
// serves, per the Gateway API: the listener hostname (nil = any) ∩ the
// route's hostnames (routeSet false = none given = any). A route hostname
// the listener covers is kept; a wildcard route hostname that covers the
// listener hostname narrows to the listener hostname. Empty means the route
// does not attach. The result is sorted and free of duplicates.
func intersectHostnames(listener string, routeHosts []string, routeSet bool) []string {
	if !routeSet {
		if listener == "" {
			return []string{anyHost}
		}
		return []string{listener}
	}
	if listener == "" {
		return sortedUnique(routeHosts)
	}
	var out []string
	for _, h := range routeHosts {
		switch {
		case hostCovers(listener, h):
			out = append(out, h)
		case hostCovers(h, listener):
			out = append(out, listener)
		}
	}
	return sortedUnique(out)
}

// hostSpecificity ranks the hostname a route matched a request through:
// Gateway API gives precedence to the route with the longest matching
// non-wildcard hostname, then the longest matching hostname.
type hostSpecificity struct{ exact, chars int }

func specificityOf(h string) hostSpecificity {
	if h == anyHost {
		return hostSpecificity{}
	}
	if strings.HasPrefix(h, "*.") {
		return hostSpecificity{chars: len(h)}
	}
	return hostSpecificity{exact: len(h), chars: len(h)}
}

func (a hostSpecificity) moreSpecific(b hostSpecificity) bool {
	if a.exact != b.exact {
		return a.exact > b.exact
	}
	return a.chars > b.chars
}

func sortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}
