package translator

import (
	"net"
	"regexp"
	"slices"
	"strings"
)

// Gateway API hostnames: RFC 1123 names, optionally with a leading "*."
// wildcard label that stands for one or more labels. "*" alone (no hostname
// at all) matches every host.

const anyHost = "*"

var hostnamePattern = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// validHostname reports whether h (already lower-cased) is a Gateway API
// hostname Envoy can use as a virtual host domain.
func validHostname(h string) bool {
	return len(h) <= 253 && hostnamePattern.MatchString(h) && net.ParseIP(h) == nil
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
