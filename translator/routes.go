package translator

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// routeEntry is one Envoy route made from one match of one HTTPRoute rule,
// with what it takes to order it by Gateway API precedence.
type routeEntry struct {
	route       *model.HTTPRoute
	rule, match int
	key         matchKey
	envoy       *routev3.Route
	// listenerPort: envoy is a redirect to the port of the listener the
	// request came in on, which each virtual host sets.
	listenerPort bool
}

// matchKey is the part of a match the Gateway API ranks routes by.
type matchKey struct {
	exactPath bool
	regexPath bool
	pathChars int
	method    bool
	headers   int
	query     int
}

// precedes reports whether a must be tried before b: exact path, regular
// expression path, longer path, method match, more header matches, more
// query matches, then the older route, then "namespace/name", then rule
// and match order. The Gateway API leaves the rank of regular expressions
// to implementations: Causeway puts them between exact paths and prefixes
// (as Envoy Gateway does), longer expressions first, so that a catch-all
// prefix never shadows them.
func (a *routeEntry) precedes(b *routeEntry) bool {
	ka, kb := a.key, b.key
	switch {
	case ka.exactPath != kb.exactPath:
		return ka.exactPath
	case ka.regexPath != kb.regexPath:
		return ka.regexPath
	case ka.pathChars != kb.pathChars:
		return ka.pathChars > kb.pathChars
	case ka.method != kb.method:
		return ka.method
	case ka.headers != kb.headers:
		return ka.headers > kb.headers
	case ka.query != kb.query:
		return ka.query > kb.query
	}
	if a.route != b.route {
		ta, tb := a.route.CreationTimestamp.Time, b.route.CreationTimestamp.Time
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		na, nb := a.route.Namespace+"/"+a.route.Name, b.route.Namespace+"/"+b.route.Name
		if na != nb {
			return na < nb
		}
	}
	if a.rule != b.rule {
		return a.rule < b.rule
	}
	return a.match < b.match
}

// envoyRouteName names an Envoy route after the rule and match it came from
// so that config dumps point back at the HTTPRoute. A named rule
// (HTTPRouteRule.name) adds its name after the index: the index keeps the
// name unique even where a world file repeats a rule name, which the
// Gateway API's CRD would refuse.
func envoyRouteName(r *model.HTTPRoute, rule, match int) string {
	if name := r.Spec.Rules[rule].Name; name != nil && *name != "" {
		return r.Namespace + "/" + r.Name + "/rule/" + strconv.Itoa(rule) + "/" + string(*name) + "/match/" + strconv.Itoa(match)
	}
	return r.Namespace + "/" + r.Name + "/rule/" + strconv.Itoa(rule) + "/match/" + strconv.Itoa(match)
}

// reportDuplicateRuleNames reports rule names used twice in route: the
// Gateway API wants them unique within a route. The API server enforces
// that; world files and offline manifests are not checked by it. Both
// rules still serve.
func reportDuplicateRuleNames(route *model.HTTPRoute, r *Resources) {
	first := map[gwv1.SectionName]int{}
	for i, rule := range route.Spec.Rules {
		if rule.Name == nil || *rule.Name == "" {
			continue
		}
		if j, dup := first[*rule.Name]; dup {
			r.report("HTTPRoute "+route.Namespace+"/"+route.Name, fmt.Sprintf("spec.rules[%d].name", i),
				"rule name %q is also the name of spec.rules[%d]; rule names must be unique within a route", *rule.Name, j)
			continue
		}
		first[*rule.Name] = i
	}
}

// defaultMatch is what a rule without matches means: every request.
var defaultMatch = gwv1.HTTPRouteMatch{}

// translateMatch turns one HTTPRouteMatch into an Envoy RouteMatch. It
// returns nil (and a reason naming the field under field) when the match
// cannot be expressed; the caller drops it rather than widening it.
func translateMatch(m gwv1.HTTPRouteMatch, field string) (*routev3.RouteMatch, matchKey, *fieldError) {
	rm := &routev3.RouteMatch{}
	var key matchKey
	pathType, pathValue := gwv1.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			pathType = *m.Path.Type
		}
		if m.Path.Value != nil {
			pathValue = *m.Path.Value
		}
	}
	switch pathType {
	case gwv1.PathMatchRegularExpression:
		// Envoy matches the whole path (without the query) against it.
		if err := checkRegex(pathValue); err != nil {
			return nil, key, &fieldError{field + ".path.value", err.Error()}
		}
		rm.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: pathValue}}
		key.regexPath, key.pathChars = true, len(pathValue)
	case gwv1.PathMatchExact, gwv1.PathMatchPathPrefix:
		if !strings.HasPrefix(pathValue, "/") || strings.ContainsAny(pathValue, "?#\x00\r\n") {
			return nil, key, &fieldError{field + ".path.value", fmt.Sprintf("path %q must start with \"/\" and contain no \"?\" or \"#\"", pathValue)}
		}
		if pathType == gwv1.PathMatchExact {
			rm.PathSpecifier = &routev3.RouteMatch_Path{Path: pathValue}
			key.exactPath, key.pathChars = true, len(pathValue)
			break
		}
		// "/reviews" and "/reviews/" both match "/reviews" and "/reviews/x"
		// but not "/reviewsx": element-wise, as the Gateway API says.
		trimmed := strings.TrimRight(pathValue, "/")
		if trimmed == "" {
			rm.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: "/"}
		} else {
			rm.PathSpecifier = &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: trimmed}
		}
		key.pathChars = max(len(trimmed), 1)
	default:
		return nil, key, &fieldError{field + ".path.type", fmt.Sprintf("path match type %q is not supported", pathType)}
	}

	seen := map[string]bool{}
	for k, h := range m.Headers {
		name := strings.ToLower(string(h.Name))
		hf := subField(field, "headers", k)
		if !httpTokenPattern.MatchString(name) {
			return nil, key, &fieldError{hf + ".name", fmt.Sprintf("header name %q is not a valid HTTP header name", h.Name)}
		}
		if seen[name] {
			continue // the Gateway API says the first match for a name wins
		}
		seen[name] = true
		var typ string
		if h.Type != nil {
			typ = string(*h.Type)
		}
		sm, err := stringMatch(typ, h.Value, hf)
		if err != nil {
			return nil, key, err
		}
		rm.Headers = append(rm.Headers, &routev3.HeaderMatcher{
			Name:                 name,
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm},
		})
		key.headers++
	}
	if m.Method != nil {
		rm.Headers = append(rm.Headers, &routev3.HeaderMatcher{
			Name: ":method",
			HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
				MatchPattern: &matcherv3.StringMatcher_Exact{Exact: string(*m.Method)},
			}},
		})
		key.method = true
	}
	seen = map[string]bool{}
	for k, q := range m.QueryParams {
		name := string(q.Name) // query parameter names are case-sensitive
		qf := subField(field, "queryParams", k)
		if !httpTokenPattern.MatchString(name) {
			return nil, key, &fieldError{qf + ".name", fmt.Sprintf("query parameter name %q is not valid", q.Name)}
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		var typ string
		if q.Type != nil {
			typ = string(*q.Type)
		}
		sm, err := stringMatch(typ, q.Value, qf)
		if err != nil {
			return nil, key, err
		}
		rm.QueryParameters = append(rm.QueryParameters, &routev3.QueryParameterMatcher{
			Name:                         name,
			QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm},
		})
		key.query++
	}
	return rm, key, nil
}

// httpTokenPattern is RFC 7230's token: what header and query names may be.
var httpTokenPattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// stringMatch builds an exact or RE2 matcher. Regular expressions are
// checked (checkRegex) so that Envoy does not reject them.
// typ is "" or "Exact" (the default) or "RegularExpression", the values
// header and query parameter matches share.
func stringMatch(typ, value, field string) (*matcherv3.StringMatcher, *fieldError) {
	if strings.ContainsAny(value, "\x00\r\n") {
		return nil, &fieldError{field + ".value", "value must not contain NUL, CR or LF"}
	}
	switch gwv1.HeaderMatchType(typ) {
	case "", gwv1.HeaderMatchExact:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: value}}, nil
	case gwv1.HeaderMatchRegularExpression:
	default:
		return nil, &fieldError{field + ".type", fmt.Sprintf("match type %q is not supported", typ)}
	}
	if err := checkRegex(value); err != nil {
		return nil, &fieldError{field + ".value", err.Error()}
	}
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
		SafeRegex: &matcherv3.RegexMatcher{Regex: value},
	}}, nil
}

// fieldError is a problem with one field of an input object.
type fieldError struct{ field, message string }

// routeAction forwards to backends (at least one, every weight above 0): a
// plain cluster for one without header filters, else weighted clusters,
// which carry each backendRef's header filters.
func routeAction(backends []weightedBackend) *routev3.RouteAction {
	if len(backends) == 1 && backends[0].headers.empty() {
		return &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: backends[0].cluster}}
	}
	wc := &routev3.WeightedCluster{}
	for _, b := range backends {
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{
			Name:                    b.cluster,
			Weight:                  wrapperspb.UInt32(b.weight),
			RequestHeadersToAdd:     b.headers.requestAdd,
			RequestHeadersToRemove:  b.headers.requestRemove,
			ResponseHeadersToAdd:    b.headers.responseAdd,
			ResponseHeadersToRemove: b.headers.responseRemove,
		})
	}
	return &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}}
}

// internalError answers 500, what the Gateway API prescribes for requests
// whose backend is invalid.
func internalError() *routev3.Route_DirectResponse {
	return &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 500}}
}
