package translator

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The Gateway API CORS filter (HTTPCORSFilter) runs in Envoy's CORS HTTP
// filter: every gateway listener has the filter (so a route gaining CORS
// changes only RDS, never the listener), and a rule with a CORS filter puts
// a CorsPolicy in its routes' typed_per_filter_config. Routes without one
// pass through untouched.
//
// Envoy answers every preflight to a CORS rule itself
// (forward_not_matching_preflights false, set explicitly): from allowed
// origins with the policy's headers, from other origins with 200 and no
// Access-Control-Allow-Origin, which a browser takes as a refusal. The
// Gateway API's conformance test HTTPRouteCORS wants the other origins'
// preflights kept from the backend too (it checks that no echo came back).
// That local answer also carries the rule's Access-Control-Allow-Credentials,
// -Methods and -Headers: Envoy adds them whatever the origin, and without
// -Origin they grant nothing.

// corsHTTPFilter is the CORS filter of the gateway HTTP connection manager,
// ahead of the router.
func corsHTTPFilter() *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{
		Name:       wellknown.CORS,
		ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: gatewayAny(&corsv3.Cors{})},
	}
}

// defaultCORSMaxAge is the Gateway API default of maxAge, in seconds
// (the CRD fills it in; a world file that leaves it out gets the same).
const defaultCORSMaxAge = 5

// corsOriginPattern is the Gateway API's CORSOrigin pattern:
// scheme://host[:port], or a lone "*".
var corsOriginPattern = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+\-.]+)://([^:/?#]+)(:([0-9]{1,5}))?$`)

// compileCORS checks a CORS filter (at field, "...filters[k].cors") and
// compiles it into the per-route CorsPolicy.
func compileCORS(f *gwv1.HTTPCORSFilter, field string) (*corsv3.CorsPolicy, []ruleProblem) {
	if f == nil {
		return nil, []ruleProblem{invalidValue(field, "filter type CORS needs cors")}
	}
	var problems []ruleProblem
	policy := &corsv3.CorsPolicy{ForwardNotMatchingPreflights: wrapperspb.Bool(false)}
	for i, o := range f.AllowOrigins {
		m, err := corsOriginMatcher(string(o))
		if err == nil && o == "*" && len(f.AllowOrigins) > 1 {
			err = fmt.Errorf("\"*\" cannot be given alongside other origins")
		}
		if err != nil {
			problems = append(problems, invalidValue(fmt.Sprintf("%s.allowOrigins[%d]", field, i), "%v", err))
			continue
		}
		policy.AllowOriginStringMatch = append(policy.AllowOriginStringMatch, m)
	}
	if f.AllowCredentials != nil && *f.AllowCredentials {
		policy.AllowCredentials = wrapperspb.Bool(true)
	}
	methods := make([]string, len(f.AllowMethods))
	for i, m := range f.AllowMethods {
		methods[i] = string(m)
	}
	var p []ruleProblem
	policy.AllowMethods, p = corsList(methods, field+".allowMethods", "method", false)
	problems = append(problems, p...)
	policy.AllowHeaders, p = corsList(headerNames(f.AllowHeaders), field+".allowHeaders", "header name", true)
	problems = append(problems, p...)
	policy.ExposeHeaders, p = corsList(headerNames(f.ExposeHeaders), field+".exposeHeaders", "header name", true)
	problems = append(problems, p...)
	switch maxAge := f.MaxAge; {
	case maxAge < 0:
		problems = append(problems, invalidValue(field+".maxAge", "maxAge %d is negative", maxAge))
	case maxAge == 0:
		policy.MaxAge = strconv.Itoa(defaultCORSMaxAge)
	default:
		policy.MaxAge = strconv.Itoa(int(maxAge))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return policy, nil
}

func headerNames(hs []gwv1.HTTPHeaderName) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = string(h)
	}
	return out
}

// corsList joins the values of one CORS list for its Access-Control-*
// header: each an HTTP token (a method or header name) or a lone "*".
// Header names are case-insensitive; methods are not, so they stay as
// written.
func corsList(values []string, field, what string, lower bool) (string, []ruleProblem) {
	var problems []ruleProblem
	out := make([]string, 0, len(values))
	seen := map[string]bool{}
	for i, v := range values {
		at := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case v == "*" && len(values) > 1:
			problems = append(problems, invalidValue(at, "\"*\" cannot be given alongside other values"))
			continue
		case v != "*" && !httpTokenPattern.MatchString(v):
			problems = append(problems, invalidValue(at, "%q is not a valid HTTP %s", v, what))
			continue
		}
		if lower {
			v = strings.ToLower(v)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return strings.Join(out, ","), problems
}

// corsOriginMatcher matches the Origin header values one allowOrigins entry
// allows. Origins compare as browsers send them: scheme and host in lower
// case (exact origins match regardless of case), and without the scheme's default port (80 for http, 443
// for https), so "https://a.example:443" allows the Origin
// "https://a.example". A "*" may stand only at the start of the host and
// matches one or more characters there, dots included
// ("https://*.example.com" allows https://a.b.example.com); a lone "*"
// allows every origin.
func corsOriginMatcher(origin string) (*matcherv3.StringMatcher, error) {
	if origin == "*" {
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
			SafeRegex: &matcherv3.RegexMatcher{Regex: ".*"}}}, nil
	}
	m := corsOriginPattern.FindStringSubmatch(origin)
	if m == nil {
		return nil, fmt.Errorf("origin %q is not scheme://host[:port] or \"*\"", origin)
	}
	scheme, host, port := strings.ToLower(m[1]), strings.ToLower(m[2]), m[4]
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("origin %q: port %s is outside 1..65535", origin, port)
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		} else {
			port = strconv.Itoa(n)
		}
	}
	suffix := ""
	if port != "" {
		suffix = ":" + port
	}
	wild := strings.HasPrefix(host, "*")
	if strings.Contains(strings.TrimPrefix(host, "*"), "*") {
		return nil, fmt.Errorf("origin %q: a wildcard may only start the host", origin)
	}
	if !wild {
		return &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Exact{Exact: scheme + "://" + host + suffix},
			IgnoreCase:   true,
		}, nil
	}
	regex := "^" + regexp.QuoteMeta(scheme+"://") + `[^/:?#@]+` + regexp.QuoteMeta(strings.TrimPrefix(host, "*")+suffix) + "$"
	if err := checkRegex(regex); err != nil {
		return nil, fmt.Errorf("origin %q: %v", origin, err)
	}
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{
		SafeRegex: &matcherv3.RegexMatcher{Regex: regex}}}, nil
}

// corsPerFilterConfig is a route's typed_per_filter_config for policy.
func corsPerFilterConfig(policy *corsv3.CorsPolicy) map[string]*anypb.Any {
	if policy == nil {
		return nil
	}
	return map[string]*anypb.Any{wellknown.CORS: gatewayAny(policy)}
}
