package translator

import (
	"regexp"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// envoyRewrite applies a pathRewrite to path the way Envoy does for a route
// whose path_separated_prefix is prefix (prefix "/" when ""):
// prefix_rewrite replaces the matched prefix, regex_rewrite substitutes
// every match in the path.
func envoyRewrite(t *testing.T, pr pathRewrite, prefix, path string) string {
	t.Helper()
	switch {
	case pr.regex != nil:
		return regexp.MustCompile(pr.regex.GetPattern().GetRegex()).ReplaceAllLiteralString(path, pr.regex.GetSubstitution())
	case pr.prefix != "":
		matched := prefix
		if matched == "" {
			matched = "/"
		}
		if !strings.HasPrefix(path, matched) {
			t.Fatalf("path %q does not start with the matched prefix %q", path, matched)
		}
		return pr.prefix + path[len(matched):]
	}
	return path
}

// TestReplacePrefixMatch runs the Gateway API's ReplacePrefixMatch table
// (HTTPPathModifier) through what Envoy does with the rewrite.
func TestReplacePrefixMatch(t *testing.T) {
	for _, tc := range []struct{ path, match, replace, want string }{
		{"/foo/bar", "/foo", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo", "/xyz/", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz/", "/xyz/bar"},
		{"/foo", "/foo", "/xyz", "/xyz"},
		{"/foo/", "/foo", "/xyz", "/xyz/"},
		{"/foo/bar", "/foo", "", "/bar"},
		{"/foo/", "/foo", "", "/"},
		{"/foo", "/foo", "", "/"},
		{"/foo/", "/foo", "/", "/"},
		{"/foo", "/foo", "/", "/"},
		// Prefix "/" matches everything; the replacement goes in front.
		{"/foo/bar", "/", "/xyz", "/xyz/foo/bar"},
		{"/", "/", "/xyz/", "/xyz/"},
		{"/foo", "/", "/", "/foo"},
		// Regex metacharacters in the prefix are literal.
		{"/a.b/c", "/a.b", "", "/c"},
	} {
		prefix, _ := matchPrefix(gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Value: &tc.match}})
		pr, err := replacePrefix(prefix, tc.replace)
		if err != nil {
			t.Fatalf("replacePrefix(%q, %q): %v", prefix, tc.replace, err)
		}
		if got := envoyRewrite(t, pr, prefix, tc.path); got != tc.want {
			t.Errorf("%s with match %s and replacement %q: got %s, want %s", tc.path, tc.match, tc.replace, got, tc.want)
		}
	}
	if _, err := replacePrefix("/"+strings.Repeat("a", 120), ""); err == nil {
		t.Error("a regex too large for Envoy was accepted")
	}
}

func TestCompileRedirect(t *testing.T) {
	port := func(p gwv1.PortNumber) *gwv1.PortNumber { return &p }
	host := func(h gwv1.PreciseHostname) *gwv1.PreciseHostname { return &h }
	for _, tc := range []struct {
		name         string
		in           gwv1.HTTPRequestRedirectFilter
		want         *routev3.RedirectAction
		listenerPort bool
		wantProblem  string // field
	}{{
		name:         "defaults: 302 to the listener's port",
		want:         &routev3.RedirectAction{ResponseCode: routev3.RedirectAction_FOUND},
		listenerPort: true,
	}, {
		name: "https takes port 443",
		in:   gwv1.HTTPRequestRedirectFilter{Scheme: ptr("https"), StatusCode: ptr(301)},
		want: &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: "https"},
			PortRedirect: 443, ResponseCode: routev3.RedirectAction_MOVED_PERMANENTLY},
	}, {
		name: "http takes port 80",
		in:   gwv1.HTTPRequestRedirectFilter{Scheme: ptr("http")},
		want: &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: "http"},
			PortRedirect: 80, ResponseCode: routev3.RedirectAction_FOUND},
	}, {
		name: "explicit port, host and full path, 308",
		in: gwv1.HTTPRequestRedirectFilter{Scheme: ptr("https"), Port: port(8443), Hostname: host("Shop.Example.com"), StatusCode: ptr(308),
			Path: &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: ptr("/new")}},
		want: &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: "https"},
			HostRedirect: "shop.example.com", PortRedirect: 8443, ResponseCode: routev3.RedirectAction_PERMANENT_REDIRECT,
			PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new"}},
	}, {
		name:         "303 keeps the listener's port",
		in:           gwv1.HTTPRequestRedirectFilter{StatusCode: ptr(303)},
		want:         &routev3.RedirectAction{ResponseCode: routev3.RedirectAction_SEE_OTHER},
		listenerPort: true,
	}, {
		name:         "307 keeps the listener's port",
		in:           gwv1.HTTPRequestRedirectFilter{StatusCode: ptr(307)},
		want:         &routev3.RedirectAction{ResponseCode: routev3.RedirectAction_TEMPORARY_REDIRECT},
		listenerPort: true,
	}, {
		name:        "unknown scheme",
		in:          gwv1.HTTPRequestRedirectFilter{Scheme: ptr("ftp")},
		wantProblem: "f.scheme",
	}, {
		name:        "unsupported status code",
		in:          gwv1.HTTPRequestRedirectFilter{StatusCode: ptr(304)},
		wantProblem: "f.statusCode",
	}, {
		name:        "wildcard hostname",
		in:          gwv1.HTTPRequestRedirectFilter{Hostname: host("*.example.com")},
		wantProblem: "f.hostname",
	}, {
		name:        "full path with a query",
		in:          gwv1.HTTPRequestRedirectFilter{Path: &gwv1.HTTPPathModifier{Type: gwv1.FullPathHTTPPathModifier, ReplaceFullPath: ptr("/a?b=1")}},
		wantProblem: "f.path.replaceFullPath",
	}, {
		name:        "path modifier without its value",
		in:          gwv1.HTTPRequestRedirectFilter{Path: &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier}},
		wantProblem: "f.path.replacePrefixMatch",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rf, problems := compileRedirect(&tc.in, "f")
			if tc.wantProblem != "" {
				if len(problems) != 1 || problems[0].field != tc.wantProblem || problems[0].reason != gwv1.RouteReasonUnsupportedValue {
					t.Fatalf("problems = %+v, want one UnsupportedValue for %s", problems, tc.wantProblem)
				}
				return
			}
			if len(problems) > 0 {
				t.Fatalf("unexpected problems %+v", problems)
			}
			if diff := cmp.Diff(tc.want, rf.forMatch("/old"), protocmp.Transform()); diff != "" {
				t.Errorf("redirect (-want +got):\n%s", diff)
			}
			if rf.listenerPort != tc.listenerPort {
				t.Errorf("listenerPort = %v, want %v", rf.listenerPort, tc.listenerPort)
			}
		})
	}
}

func TestCompileHeaderFilter(t *testing.T) {
	var h headerFilters
	problems := compileHeaderFilter(&gwv1.HTTPHeaderFilter{
		Set:    []gwv1.HTTPHeader{{Name: "X-Rate", Value: "50%"}, {Name: "Host", Value: "evil"}},
		Add:    []gwv1.HTTPHeader{{Name: "x-rate", Value: "twice"}, {Name: "X-Trace", Value: "a,b"}, {Name: "x-crlf", Value: "a\r\nb: c"}},
		Remove: []string{"X-Internal", "bad name"},
	}, "f", false, &h)
	want := headerFilters{
		requestAdd: []*corev3.HeaderValueOption{
			{Header: &corev3.HeaderValue{Key: "x-rate", Value: "50%%"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD},
			{Header: &corev3.HeaderValue{Key: "x-trace", Value: "a,b"}, AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD},
		},
		requestRemove: []string{"x-internal"},
	}
	if diff := cmp.Diff(want, h, cmp.AllowUnexported(headerFilters{}), protocmp.Transform()); diff != "" {
		t.Errorf("filters (-want +got):\n%s", diff)
	}
	var fields []string
	for _, p := range problems {
		fields = append(fields, p.field)
	}
	wantFields := []string{"f.set[1].name", "f.add[0].name", "f.add[2].value", "f.remove[1]"}
	if diff := cmp.Diff(wantFields, fields); diff != "" {
		t.Errorf("problem fields (-want +got):\n%s", diff)
	}
}

func TestMirrorFraction(t *testing.T) {
	den := func(d int32) *int32 { return &d }
	for _, tc := range []struct {
		name string
		in   gwv1.HTTPRequestMirrorFilter
		want *typev3.FractionalPercent
		bad  bool
	}{
		{name: "neither: every request"},
		{name: "percent", in: gwv1.HTTPRequestMirrorFilter{Percent: ptr(int32(25))},
			want: &typev3.FractionalPercent{Numerator: 25, Denominator: typev3.FractionalPercent_HUNDRED}},
		{name: "fraction of 100 by default", in: gwv1.HTTPRequestMirrorFilter{Fraction: &gwv1.Fraction{Numerator: 5}},
			want: &typev3.FractionalPercent{Numerator: 5, Denominator: typev3.FractionalPercent_HUNDRED}},
		{name: "fraction of ten thousand", in: gwv1.HTTPRequestMirrorFilter{Fraction: &gwv1.Fraction{Numerator: 5, Denominator: den(10000)}},
			want: &typev3.FractionalPercent{Numerator: 5, Denominator: typev3.FractionalPercent_TEN_THOUSAND}},
		{name: "other denominators in millionths", in: gwv1.HTTPRequestMirrorFilter{Fraction: &gwv1.Fraction{Numerator: 1, Denominator: den(3)}},
			want: &typev3.FractionalPercent{Numerator: 333333, Denominator: typev3.FractionalPercent_MILLION}},
		{name: "both", in: gwv1.HTTPRequestMirrorFilter{Percent: ptr(int32(1)), Fraction: &gwv1.Fraction{Numerator: 1}}, bad: true},
		{name: "percent above 100", in: gwv1.HTTPRequestMirrorFilter{Percent: ptr(int32(101))}, bad: true},
		{name: "fraction above 1", in: gwv1.HTTPRequestMirrorFilter{Fraction: &gwv1.Fraction{Numerator: 3, Denominator: den(2)}}, bad: true},
		{name: "zero denominator", in: gwv1.HTTPRequestMirrorFilter{Fraction: &gwv1.Fraction{Numerator: 0, Denominator: den(0)}}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, p := mirrorFraction(&tc.in, "m")
			if (p != nil) != tc.bad {
				t.Fatalf("problem = %+v, want one: %v", p, tc.bad)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("fraction (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCompileRuleProblems checks which rules answer 500 and how each
// problem is reported.
func TestCompileRuleProblems(t *testing.T) {
	prefix := func(v string) gwv1.HTTPRouteMatch {
		return gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr(v)}}
	}
	exact := gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr("/a")}}
	redirect := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gwv1.HTTPRequestRedirectFilter{}}
	rewritePrefix := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterURLRewrite, URLRewrite: &gwv1.HTTPURLRewriteFilter{
		Path: &gwv1.HTTPPathModifier{Type: gwv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr("/b")}}}
	reqHeaders := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{}}
	subset := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterExtensionRef, ExtensionRef: &gwv1.LocalObjectReference{Group: "networking.causeway.dev", Kind: "Subset", Name: "v1"}}
	other := gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterExtensionRef, ExtensionRef: &gwv1.LocalObjectReference{Group: "example.com", Kind: "Auth", Name: "x"}}
	backend := gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "svc"}}}
	type problem struct {
		Field  string
		Reason gwv1.RouteConditionReason
		Ref    bool
	}
	for _, tc := range []struct {
		name string
		rule gwv1.HTTPRouteRule
		want []problem
	}{
		{name: "valid filters", rule: gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{prefix("/a"), prefix("/c")},
			Filters: []gwv1.HTTPRouteFilter{reqHeaders, rewritePrefix, subset}}},
		{name: "redirect with rewrite", rule: gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{redirect, rewritePrefix}},
			want: []problem{{"r.filters", gwv1.RouteReasonIncompatibleFilters, false}}},
		{name: "redirect with backends", rule: gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{redirect}, BackendRefs: []gwv1.HTTPBackendRef{backend}},
			want: []problem{{"r.backendRefs", gwv1.RouteReasonIncompatibleFilters, false}}},
		{name: "redirect with mirror", rule: gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{redirect,
			{Type: gwv1.HTTPRouteFilterRequestMirror, RequestMirror: &gwv1.HTTPRequestMirrorFilter{BackendRef: backend.BackendObjectReference}}}},
			want: []problem{{"r.filters", gwv1.RouteReasonIncompatibleFilters, false}}},
		{name: "repeated filter", rule: gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{reqHeaders, reqHeaders}},
			want: []problem{{"r.filters[1].type", gwv1.RouteReasonUnsupportedValue, false}}},
		{name: "prefix rewrite with an exact match", rule: gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{prefix("/a"), exact},
			Filters: []gwv1.HTTPRouteFilter{rewritePrefix}},
			want: []problem{{"r.matches[1].path.type", gwv1.RouteReasonUnsupportedValue, false}}},
		{name: "unknown ExtensionRef", rule: gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{other}},
			want: []problem{{"r.filters[0].extensionRef", gwv1.RouteReasonInvalidKind, true}}},
		{name: "unknown filter type", rule: gwv1.HTTPRouteRule{Filters: []gwv1.HTTPRouteFilter{{Type: gwv1.HTTPRouteFilterExternalAuth}}},
			want: []problem{{"r.filters[0].type", gwv1.RouteReasonUnsupportedValue, false}}},
		{name: "backendRef filters: headers and subset fine, rewrite not", rule: gwv1.HTTPRouteRule{BackendRefs: []gwv1.HTTPBackendRef{
			{BackendRef: backend.BackendRef, Filters: []gwv1.HTTPRouteFilter{reqHeaders, subset, rewritePrefix, other}}}},
			want: []problem{{"r.backendRefs[0].filters[2].type", gwv1.RouteReasonUnsupportedValue, false},
				{"r.backendRefs[0].filters[3].extensionRef", gwv1.RouteReasonInvalidKind, true}}},
		{name: "backendRequest above request", rule: gwv1.HTTPRouteRule{Timeouts: &gwv1.HTTPRouteTimeouts{Request: ptr(gwv1.Duration("1s")), BackendRequest: ptr(gwv1.Duration("2s"))}},
			want: []problem{{"r.timeouts.backendRequest", gwv1.RouteReasonUnsupportedValue, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := compileRule(tc.rule, "r")
			var got []problem
			for _, p := range cr.problems {
				if p.message == "" {
					t.Errorf("problem at %s has no message", p.field)
				}
				got = append(got, problem{p.field, p.reason, p.ref})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if cr.servable() != (len(tc.want) == 0) {
				t.Errorf("servable = %v with problems %v", cr.servable(), got)
			}
		})
	}
}
