package translator

import (
	"fmt"
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// RequestRedirect and URLRewrite filters: both change the host and path,
// one in a Location header, the other before forwarding.

// urlPathPattern is what a path given to ReplaceFullPath or
// ReplacePrefixMatch may contain: the URL path characters the Gateway API
// allows in path matches. Backslashes and "?" are out, so a value is never
// read as a regex substitution reference or as a query string.
var urlPathPattern = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})*$`)

// pathModifier is a checked HTTPPathModifier: exactly one of full and
// prefix is set (prefix may be "").
type pathModifier struct {
	full, prefix *string
}

func compilePathModifier(m *gwv1.HTTPPathModifier, field string) (*pathModifier, []ruleProblem) {
	if m == nil {
		return nil, nil
	}
	check := func(v *string, key string, mayBeEmpty bool) []ruleProblem {
		switch {
		case v == nil:
			return []ruleProblem{invalidValue(field+"."+key, "type %s needs %s", m.Type, key)}
		case !(mayBeEmpty && *v == "") && !strings.HasPrefix(*v, "/"), !urlPathPattern.MatchString(*v):
			return []ruleProblem{invalidValue(field+"."+key, "path %q must start with \"/\" and contain only URL path characters", *v)}
		}
		return nil
	}
	switch m.Type {
	case gwv1.FullPathHTTPPathModifier:
		if p := check(m.ReplaceFullPath, "replaceFullPath", false); p != nil {
			return nil, p
		}
		return &pathModifier{full: m.ReplaceFullPath}, nil
	case gwv1.PrefixMatchHTTPPathModifier:
		if p := check(m.ReplacePrefixMatch, "replacePrefixMatch", true); p != nil {
			return nil, p
		}
		return &pathModifier{prefix: m.ReplacePrefixMatch}, nil
	default:
		return nil, []ruleProblem{invalidValue(field+".type", "path modifier type %q is not supported (use ReplaceFullPath or ReplacePrefixMatch)", m.Type)}
	}
}

// pathRewrite is how Envoy changes a path: prefix_rewrite (replacing the
// matched prefix) or a regex substitution; neither set: no change.
type pathRewrite struct {
	prefix string
	regex  *matcherv3.RegexMatchAndSubstitute
}

// replacePrefix is ReplacePrefixMatch for a PathPrefix match on prefix
// (trailing "/" trimmed, "" for "/"). Trailing slashes of the replacement
// do not count, as in the Gateway API's table: with prefix "/foo",
// replacement "/xyz" or "/xyz/" makes /foo/bar → /xyz/bar, /foo → /xyz and
// /foo/ → /xyz/; replacement "" or "/" makes /foo/bar → /bar and /foo →
// /, which prefix_rewrite cannot (it would leave an empty path), so a
// regex anchored at the prefix replaces it and the following "/" by "/".
func replacePrefix(prefix, replacement string) (pathRewrite, error) {
	r := strings.TrimRight(replacement, "/")
	switch {
	case prefix == "" && r == "":
		return pathRewrite{}, nil
	case prefix == "": // the match is prefix "/", which the replacement keeps
		return pathRewrite{prefix: r + "/"}, nil
	case r != "": // Envoy replaces the matched path-separated prefix
		return pathRewrite{prefix: r}, nil
	}
	pattern := "^" + regexp.QuoteMeta(prefix) + "(?:/|$)"
	if err := checkRegex(pattern); err != nil {
		return pathRewrite{}, err
	}
	return pathRewrite{regex: &matcherv3.RegexMatchAndSubstitute{
		Pattern: &matcherv3.RegexMatcher{Regex: pattern}, Substitution: "/",
	}}, nil
}

// replaceFullPath replaces the whole path; Envoy's regex_rewrite works on
// the path alone, so the query string stays.
func replaceFullPath(path string) *matcherv3.RegexMatchAndSubstitute {
	return &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: "^/.*$"}, Substitution: path}
}

// rewriteFor is the path rewrite m asks for on a match whose PathPrefix is
// prefix (compileRule has checked that ReplacePrefixMatch only meets
// PathPrefix matches and that the regex fits).
func (m *pathModifier) rewriteFor(prefix string) pathRewrite {
	switch {
	case m == nil:
		return pathRewrite{}
	case m.full != nil:
		return pathRewrite{regex: replaceFullPath(*m.full)}
	}
	pr, _ := replacePrefix(prefix, *m.prefix)
	return pr
}

// preciseHostname checks a hostname that is sent, not matched: no wildcard.
func preciseHostname(h *gwv1.PreciseHostname, field string) (string, []ruleProblem) {
	if h == nil {
		return "", nil
	}
	host := strings.ToLower(string(*h))
	if len(host) > 253 || !hostnameLabelsValid(host) {
		return "", []ruleProblem{invalidValue(field, "hostname %q is not a valid hostname (no wildcards)", *h)}
	}
	return host, nil
}

// redirectCodes maps the redirect status codes Envoy can send. The Gateway
// API lists 301 and 302; 303, 307 and 308 are accepted too.
var redirectCodes = map[int]routev3.RedirectAction_RedirectResponseCode{
	301: routev3.RedirectAction_MOVED_PERMANENTLY,
	302: routev3.RedirectAction_FOUND,
	303: routev3.RedirectAction_SEE_OTHER,
	307: routev3.RedirectAction_TEMPORARY_REDIRECT,
	308: routev3.RedirectAction_PERMANENT_REDIRECT,
}

// redirectFilter is a checked RequestRedirect filter.
type redirectFilter struct {
	// action has everything but the per-match path rewrite and, when
	// listenerPort is set, the port.
	action *routev3.RedirectAction
	path   *pathModifier
	// listenerPort: neither scheme nor port is given, so the Location
	// names the listener's port (the Gateway API requires it); set per
	// listener port by the virtual host.
	listenerPort bool
}

// compileRedirect checks a RequestRedirect filter. The port is always
// explicit, as the Gateway API derives it (the port given, else the
// scheme's well-known port, else the listener's): Envoy would otherwise
// keep the port of the request's Host header, wrong after a scheme change.
// Envoy then always writes it (":443" included), an equivalent URL.
func compileRedirect(f *gwv1.HTTPRequestRedirectFilter, field string) (*redirectFilter, []ruleProblem) {
	if f == nil {
		return nil, []ruleProblem{invalidValue(field, "filter needs requestRedirect")}
	}
	rf := &redirectFilter{action: &routev3.RedirectAction{ResponseCode: routev3.RedirectAction_FOUND}}
	var problems []ruleProblem
	if f.Scheme != nil {
		switch *f.Scheme {
		case "http", "https":
			rf.action.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: *f.Scheme}
		default:
			problems = append(problems, invalidValue(field+".scheme", "scheme %q is not supported (use http or https)", *f.Scheme))
		}
	}
	host, p := preciseHostname(f.Hostname, field+".hostname")
	problems = append(problems, p...)
	rf.action.HostRedirect = host
	switch {
	case f.Port != nil && (*f.Port < 1 || *f.Port > 65535):
		problems = append(problems, invalidValue(field+".port", "port %d is out of range", *f.Port))
	case f.Port != nil:
		rf.action.PortRedirect = uint32(*f.Port)
	case f.Scheme != nil && *f.Scheme == "https":
		rf.action.PortRedirect = 443
	case f.Scheme != nil:
		rf.action.PortRedirect = 80
	default:
		rf.listenerPort = true
	}
	if f.StatusCode != nil {
		code, ok := redirectCodes[*f.StatusCode]
		if !ok {
			problems = append(problems, invalidValue(field+".statusCode", "status code %d is not supported (use 301, 302, 303, 307 or 308)", *f.StatusCode))
		}
		rf.action.ResponseCode = code
	}
	rf.path, p = compilePathModifier(f.Path, field+".path")
	problems = append(problems, p...)
	if rf.path != nil && rf.path.full != nil {
		rf.action.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: *rf.path.full}
	}
	return rf, problems
}

// forMatch is the redirect for a match whose PathPrefix is prefix.
func (rf *redirectFilter) forMatch(prefix string) *routev3.RedirectAction {
	a := proto.Clone(rf.action).(*routev3.RedirectAction)
	if rf.path != nil && rf.path.prefix != nil {
		pr := rf.path.rewriteFor(prefix)
		switch {
		case pr.regex != nil:
			a.PathRewriteSpecifier = &routev3.RedirectAction_RegexRewrite{RegexRewrite: pr.regex}
		case pr.prefix != "":
			a.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: pr.prefix}
		}
	}
	return a
}

// rewriteFilter is a checked URLRewrite filter.
type rewriteFilter struct {
	host string
	path *pathModifier
}

func compileRewrite(f *gwv1.HTTPURLRewriteFilter, field string) (*rewriteFilter, []ruleProblem) {
	if f == nil {
		return nil, []ruleProblem{invalidValue(field, "filter needs urlRewrite")}
	}
	host, problems := preciseHostname(f.Hostname, field+".hostname")
	path, p := compilePathModifier(f.Path, field+".path")
	return &rewriteFilter{host: host, path: path}, append(problems, p...)
}

// apply sets the rewrite on a for a match whose PathPrefix is prefix.
func (rw *rewriteFilter) apply(a *routev3.RouteAction, prefix string) {
	if rw.host != "" {
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: rw.host}
	}
	pr := rw.path.rewriteFor(prefix)
	a.PrefixRewrite, a.RegexRewrite = pr.prefix, pr.regex
}

// checkPrefixModifier checks that a ReplacePrefixMatch modifier meets only
// PathPrefix matches (the Gateway API requires it; the replaced prefix is
// the match's) and that each rewrite is one Envoy accepts.
func checkPrefixModifier(m *pathModifier, matches []gwv1.HTTPRouteMatch, field, ruleField string) []ruleProblem {
	if m == nil || m.prefix == nil {
		return nil
	}
	if len(matches) == 0 {
		matches = []gwv1.HTTPRouteMatch{defaultMatch}
	}
	var problems []ruleProblem
	for k, mt := range matches {
		prefix, ok := matchPrefix(mt)
		if !ok {
			problems = append(problems, invalidValue(fmt.Sprintf("%s.matches[%d].path.type", ruleField, k),
				"%s.replacePrefixMatch needs PathPrefix matches only", field))
			continue
		}
		if _, err := replacePrefix(prefix, *m.prefix); err != nil {
			problems = append(problems, invalidValue(field+".replacePrefixMatch", "%v", err))
		}
	}
	return problems
}

// matchPrefix is the prefix of a PathPrefix match, trailing "/" trimmed as
// Envoy's route match has it, and false for other path matches.
func matchPrefix(m gwv1.HTTPRouteMatch) (string, bool) {
	if m.Path == nil {
		return "", true
	}
	if m.Path.Type != nil && *m.Path.Type != gwv1.PathMatchPathPrefix {
		return "", false
	}
	if m.Path.Value == nil {
		return "", true
	}
	return strings.TrimRight(*m.Path.Value, "/"), true
}
