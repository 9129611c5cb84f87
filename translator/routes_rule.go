package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// compiledRule is one HTTPRoute rule checked and compiled for Envoy, apart
// from its backends (which depend on the proxy's cluster). It depends on
// the rule alone, so Translate and Statuses judge rules alike.
type compiledRule struct {
	// problems make the rule answer 500 (see filters.go).
	problems []ruleProblem
	headers  headerFilters
	// backendHeaders are the header filters of each backendRef, by index.
	backendHeaders []headerFilters
	redirect       *redirectFilter
	rewrite        *rewriteFilter
	mirrors        []*mirrorFilter
	cors           *corsv3.CorsPolicy
	timeout        *durationpb.Duration
	// retry is the rule's retry policy, else the default (retry_default.go).
	retry *routev3.RetryPolicy
}

// nonRepeatable are the filter types a rule may have once.
var nonRepeatable = map[gwv1.HTTPRouteFilterType]bool{
	gwv1.HTTPRouteFilterRequestHeaderModifier:  true,
	gwv1.HTTPRouteFilterResponseHeaderModifier: true,
	gwv1.HTTPRouteFilterRequestRedirect:        true,
	gwv1.HTTPRouteFilterURLRewrite:             true,
	gwv1.HTTPRouteFilterCORS:                   true,
}

// compileRule checks and compiles rule (at field, "spec.rules[i]").
func compileRule(rule gwv1.HTTPRouteRule, field string) *compiledRule {
	cr := &compiledRule{}
	add := func(p []ruleProblem) { cr.problems = append(cr.problems, p...) }
	seen := map[gwv1.HTTPRouteFilterType]bool{}
	var redirectField, rewriteField string
	for k, f := range rule.Filters {
		ff := subField(field, "filters", k)
		if nonRepeatable[f.Type] && seen[f.Type] {
			add([]ruleProblem{invalidValue(ff+".type", "filter %s is given more than once", f.Type)})
			continue
		}
		seen[f.Type] = true
		switch f.Type {
		case gwv1.HTTPRouteFilterRequestHeaderModifier:
			add(headerModifier(f.RequestHeaderModifier, ff, "requestHeaderModifier", false, &cr.headers))
		case gwv1.HTTPRouteFilterResponseHeaderModifier:
			add(headerModifier(f.ResponseHeaderModifier, ff, "responseHeaderModifier", true, &cr.headers))
		case gwv1.HTTPRouteFilterRequestRedirect:
			rf, p := compileRedirect(f.RequestRedirect, ff+".requestRedirect")
			cr.redirect, redirectField = rf, ff+".requestRedirect.path"
			add(p)
		case gwv1.HTTPRouteFilterURLRewrite:
			rw, p := compileRewrite(f.URLRewrite, ff+".urlRewrite")
			cr.rewrite, rewriteField = rw, ff+".urlRewrite.path"
			add(p)
		case gwv1.HTTPRouteFilterRequestMirror:
			m, p := compileMirror(f.RequestMirror, ff)
			if m != nil {
				cr.mirrors = append(cr.mirrors, m)
			}
			add(p)
		case gwv1.HTTPRouteFilterCORS:
			var p []ruleProblem
			cr.cors, p = compileCORS(f.CORS, ff+".cors")
			add(p)
		case gwv1.HTTPRouteFilterExtensionRef:
			if !isSubsetFilter(f) { // a subset is resolved with the backendRefs
				add([]ruleProblem{unknownExtension(f, ff)})
			}
		default:
			add([]ruleProblem{invalidValue(ff+".type", "filter type %q is not supported", f.Type)})
		}
	}
	switch {
	case seen[gwv1.HTTPRouteFilterRequestRedirect] && seen[gwv1.HTTPRouteFilterURLRewrite]:
		add([]ruleProblem{{field: field + ".filters", message: "RequestRedirect and URLRewrite cannot be combined",
			reason: gwv1.RouteReasonIncompatibleFilters}})
	case cr.redirect != nil && len(rule.BackendRefs) > 0:
		add([]ruleProblem{{field: field + ".backendRefs", message: "a rule with a RequestRedirect filter must not have backendRefs",
			reason: gwv1.RouteReasonIncompatibleFilters}})
	case cr.redirect != nil && len(cr.mirrors) > 0: // Envoy mirrors only requests it forwards
		add([]ruleProblem{{field: field + ".filters", message: "RequestRedirect and RequestMirror cannot be combined (a redirected request is not forwarded, so there is nothing to mirror)",
			reason: gwv1.RouteReasonIncompatibleFilters}})
	}
	if cr.redirect != nil {
		add(checkPrefixModifier(cr.redirect.path, rule.Matches, redirectField, field))
	}
	if cr.rewrite != nil {
		add(checkPrefixModifier(cr.rewrite.path, rule.Matches, rewriteField, field))
	}
	for j, ref := range rule.BackendRefs {
		h, p := backendRefFilters(ref.Filters, subField(field, "backendRefs", j))
		cr.backendHeaders = append(cr.backendHeaders, h)
		add(p)
	}
	var p []ruleProblem
	// A rule without retry settings of its own gets its virtual host's
	// default (defaultRetryPolicy); its own replace the default entirely.
	cr.timeout, cr.retry, p = ruleTimeouts(rule.Timeouts, rule.Retry, field)
	add(p)
	return cr
}

// servable reports whether the rule can be programmed as written.
func (cr *compiledRule) servable() bool { return len(cr.problems) == 0 }

// envoyRoute is the Envoy route for one match of the rule: rm matches,
// then a redirect, or forwarding to backends with mirrors. A rule that is
// not servable (or whose backends did not resolve: ok false) answers 500.
func (cr *compiledRule) envoyRoute(name string, rm *routev3.RouteMatch, backends []weightedBackend,
	mirrors []*routev3.RouteAction_RequestMirrorPolicy, ok bool) *routev3.Route {
	r := &routev3.Route{Name: name, Match: rm}
	if !ok || !cr.servable() {
		r.Action = internalError()
		return r
	}
	prefix := envoyMatchPrefix(rm)
	if cr.redirect != nil {
		r.Action = &routev3.Route_Redirect{Redirect: cr.redirect.forMatch(prefix)}
	} else {
		action := routeAction(backends)
		if cr.rewrite != nil {
			cr.rewrite.apply(action, prefix)
		}
		action.Timeout = cr.timeout
		action.RetryPolicy = cr.retry
		action.RequestMirrorPolicies = mirrors
		r.Action = &routev3.Route_Route{Route: action}
	}
	r.RequestHeadersToAdd, r.RequestHeadersToRemove = cr.headers.requestAdd, cr.headers.requestRemove
	r.ResponseHeadersToAdd, r.ResponseHeadersToRemove = cr.headers.responseAdd, cr.headers.responseRemove
	r.TypedPerFilterConfig = corsPerFilterConfig(cr.cors)
	return r
}

// envoyMatchPrefix is the path-separated prefix an Envoy route matches on
// ("" for prefix "/" and for other path matches).
func envoyMatchPrefix(rm *routev3.RouteMatch) string {
	return rm.GetPathSeparatedPrefix()
}
