package translator

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

func TestIntersectHostnames(t *testing.T) {
	for _, tc := range []struct {
		name     string
		listener string
		route    []string
		routeSet bool
		want     []string
	}{
		{"neither set", "", nil, false, []string{"*"}},
		{"listener only", "bookinfo.example.com", nil, false, []string{"bookinfo.example.com"}},
		{"listener wildcard only", "*.example.com", nil, false, []string{"*.example.com"}},
		{"route only", "", []string{"b.example.com", "a.example.com", "a.example.com"}, true, []string{"a.example.com", "b.example.com"}},
		{"equal", "bookinfo.example.com", []string{"bookinfo.example.com"}, true, []string{"bookinfo.example.com"}},
		{"exact vs other exact", "bookinfo.example.com", []string{"shop.example.com"}, true, nil},
		{"listener wildcard keeps covered route hosts", "*.example.com", []string{"test.example.com", "foo.test.example.com", "test.example.net"}, true,
			[]string{"foo.test.example.com", "test.example.com"}},
		{"listener wildcard excludes its apex", "*.example.com", []string{"example.com"}, true, nil},
		{"route wildcard narrows to listener host", "test.example.com", []string{"*.example.com"}, true, []string{"test.example.com"}},
		{"route wildcard does not cover other domain", "test.example.net", []string{"*.example.com"}, true, nil},
		{"both wildcards, route narrower", "*.example.com", []string{"*.foo.example.com"}, true, []string{"*.foo.example.com"}},
		{"both wildcards, listener narrower", "*.foo.example.com", []string{"*.example.com"}, true, []string{"*.foo.example.com"}},
		{"both wildcards, equal", "*.example.com", []string{"*.example.com"}, true, []string{"*.example.com"}},
		{"route named hosts but none valid", "", nil, true, nil},
		{"wildcard suffix must align to a label", "*.example.com", []string{"badexample.com"}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := intersectHostnames(tc.listener, tc.route, tc.routeSet)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("intersectHostnames(%q, %q, %v) (-want +got):\n%s", tc.listener, tc.route, tc.routeSet, diff)
			}
		})
	}
}

func TestValidHostname(t *testing.T) {
	for h, want := range map[string]bool{
		"bookinfo.example.com": true,
		"*.example.com":        true,
		"localhost":            true,
		"a-b.c":                true,
		"*":                    false, // "any" is the absence of a hostname, not a value
		"foo.*.com":            false,
		"*example.com":         false,
		"-a.com":               false,
		"a_b.com":              false,
		"127.0.0.1":            false,
		"Upper.com":            false, // callers lower-case first
		"":                     false,
	} {
		if got := validHostname(h); got != want {
			t.Errorf("validHostname(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestHostSpecificity(t *testing.T) {
	// Most specific first, as virtual hosts order rules from covering routes.
	want := []string{"foo.bar.example.com", "bar.example.com", "*.bar.example.com", "*.example.com", "*"}
	got := slices.Clone(want)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	slices.SortStableFunc(got, func(a, b string) int {
		switch {
		case specificityOf(a).moreSpecific(specificityOf(b)):
			return -1
		case specificityOf(b).moreSpecific(specificityOf(a)):
			return 1
		}
		return 0
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestListenerPrecedence: a request belongs to the most specific listener
// hostname covering it; listener hostnames a served hostname would cover get
// their own virtual host.
func TestListenerPrecedence(t *testing.T) {
	listeners := []string{"*", "*.example.com", "*.foo.example.com", "api.example.com"}
	for host, want := range map[string]string{
		"api.example.com":   "api.example.com",
		"x.example.com":     "*.example.com",
		"a.foo.example.com": "*.foo.example.com",
		"*.foo.example.com": "*.foo.example.com",
		"*.example.com":     "*.example.com",
		"other.org":         "*",
		"*":                 "*",
	} {
		if got := mostSpecificListener(listeners, host); got != want {
			t.Errorf("mostSpecificListener(%q) = %q, want %q", host, got, want)
		}
	}
	got := shadowedListenerHosts(listeners, []string{"*.example.com", "api.example.com"})
	if diff := cmp.Diff([]string{"*.foo.example.com"}, got); diff != "" {
		t.Errorf("shadowedListenerHosts (-want +got):\n%s", diff)
	}
	if got := shadowedListenerHosts([]string{"a.example.com"}, []string{"b.example.com"}); got != nil {
		t.Errorf("shadowedListenerHosts without overlap = %q, want none", got)
	}
}

func ptr[T any](v T) *T { return &v }

func TestTranslateMatch(t *testing.T) {
	exact := func(s string) *routev3.HeaderMatcher_StringMatch {
		return &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}}
	}
	for _, tc := range []struct {
		name    string
		in      gwv1.HTTPRouteMatch
		want    *routev3.RouteMatch
		wantKey matchKey
		wantErr string // field of the error
	}{
		{
			name:    "default is prefix /",
			want:    &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			wantKey: matchKey{pathChars: 1},
		},
		{
			name:    "prefix is element-wise",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Value: ptr("/reviews")}},
			want:    &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/reviews"}},
			wantKey: matchKey{pathChars: 8},
		},
		{
			name:    "trailing slash of a prefix is ignored",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/reviews//")}},
			want:    &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_PathSeparatedPrefix{PathSeparatedPrefix: "/reviews"}},
			wantKey: matchKey{pathChars: 8},
		},
		{
			name:    "exact",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr("/productpage")}},
			want:    &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/productpage"}},
			wantKey: matchKey{exactPath: true, pathChars: 12},
		},
		{
			name: "headers, method and query",
			in: gwv1.HTTPRouteMatch{
				Headers: []gwv1.HTTPHeaderMatch{
					{Name: "X-Version", Value: "v2"},
					{Name: "x-version", Value: "shadowed"},
					{Name: "X-User", Type: ptr(gwv1.HeaderMatchRegularExpression), Value: "^a.*$"},
				},
				Method:      ptr(gwv1.HTTPMethodGet),
				QueryParams: []gwv1.HTTPQueryParamMatch{{Name: "Debug", Value: "1"}},
			},
			want: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
				Headers: []*routev3.HeaderMatcher{
					{Name: "x-version", HeaderMatchSpecifier: exact("v2")},
					{Name: "x-user", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "^a.*$"}},
					}}},
					{Name: ":method", HeaderMatchSpecifier: exact("GET")},
				},
				QueryParameters: []*routev3.QueryParameterMatcher{{
					Name: "Debug",
					QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "1"},
					}},
				}},
			},
			wantKey: matchKey{pathChars: 1, method: true, headers: 2, query: 1},
		},
		{
			name:    "relative path",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Value: ptr("reviews")}},
			wantErr: "m.path.value",
		},
		{
			name:    "query in path",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr("/a?b")}},
			wantErr: "m.path.value",
		},
		{
			name:    "regex path",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchRegularExpression), Value: ptr("/a.*")}},
			want:    &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/a.*"}}},
			wantKey: matchKey{regexPath: true, pathChars: 4},
		},
		{
			name:    "regex path that RE2 does not parse",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchRegularExpression), Value: ptr("/(?<=a)b")}},
			wantErr: "m.path.value",
		},
		{
			name:    "regex path too large for Envoy",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchRegularExpression), Value: ptr("/[a-z]{1,50}")}},
			wantErr: "m.path.value",
		},
		{
			name:    "unknown path match type",
			in:      gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchType("Glob")), Value: ptr("/a*")}},
			wantErr: "m.path.type",
		},
		{
			name: "regex query parameter",
			in:   gwv1.HTTPRouteMatch{QueryParams: []gwv1.HTTPQueryParamMatch{{Name: "id", Type: ptr(gwv1.QueryParamMatchRegularExpression), Value: "[0-9]+"}}},
			want: &routev3.RouteMatch{
				PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
				QueryParameters: []*routev3.QueryParameterMatcher{{
					Name: "id",
					QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
						MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "[0-9]+"}},
					}},
				}},
			},
			wantKey: matchKey{pathChars: 1, query: 1},
		},
		{
			name:    "bad regex",
			in:      gwv1.HTTPRouteMatch{Headers: []gwv1.HTTPHeaderMatch{{Name: "x", Type: ptr(gwv1.HeaderMatchRegularExpression), Value: "("}}},
			wantErr: "m.headers[0].value",
		},
		{
			name:    "bad header name",
			in:      gwv1.HTTPRouteMatch{Headers: []gwv1.HTTPHeaderMatch{{Name: "x y", Value: "1"}}},
			wantErr: "m.headers[0].name",
		},
		{
			name:    "CRLF in header value",
			in:      gwv1.HTTPRouteMatch{Headers: []gwv1.HTTPHeaderMatch{{Name: "x", Value: "a\r\nb"}}},
			wantErr: "m.headers[0].value",
		},
		{
			name:    "unknown query match type",
			in:      gwv1.HTTPRouteMatch{QueryParams: []gwv1.HTTPQueryParamMatch{{Name: "q", Type: ptr(gwv1.QueryParamMatchType("Prefix")), Value: "1"}}},
			wantErr: "m.queryParams[0].type",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, key, ferr := translateMatch(tc.in, "m")
			if tc.wantErr != "" {
				if ferr == nil || ferr.field != tc.wantErr {
					t.Fatalf("error = %+v, want one for field %s", ferr, tc.wantErr)
				}
				return
			}
			if ferr != nil {
				t.Fatalf("unexpected error %+v", ferr)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("RouteMatch (-want +got):\n%s", diff)
			}
			if key != tc.wantKey {
				t.Errorf("key = %+v, want %+v", key, tc.wantKey)
			}
			if err := got.ValidateAll(); err != nil {
				t.Errorf("invalid RouteMatch: %v", err)
			}
		})
	}
}

// TestRoutePrecedence checks the Gateway API order across routes: exact
// path, regular expression (Causeway's choice, longest first), longest
// prefix, method, most headers, most query params, then the older route,
// then namespace/name, then rule and match order.
func TestRoutePrecedence(t *testing.T) {
	old := metav1.NewTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	newer := metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	route := func(ns, name string, created metav1.Time, rules ...[]gwv1.HTTPRouteMatch) *model.HTTPRoute {
		r := &model.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: created}}
		for _, ms := range rules {
			r.Spec.Rules = append(r.Spec.Rules, gwv1.HTTPRouteRule{Matches: ms})
		}
		return r
	}
	prefix := func(p string) *gwv1.HTTPPathMatch {
		return &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr(p)}
	}
	regex := func(p string) *gwv1.HTTPPathMatch {
		return &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchRegularExpression), Value: ptr(p)}
	}
	hdr := func(n string) gwv1.HTTPHeaderMatch {
		return gwv1.HTTPHeaderMatch{Name: gwv1.HTTPHeaderName(n), Value: "1"}
	}
	qp := func(n string) gwv1.HTTPQueryParamMatch {
		return gwv1.HTTPQueryParamMatch{Name: gwv1.HTTPHeaderName(n), Value: "1"}
	}

	routes := []*model.HTTPRoute{
		route("b", "newer", newer,
			[]gwv1.HTTPRouteMatch{{Path: prefix("/a")}},
			[]gwv1.HTTPRouteMatch{{Path: prefix("/a"), Headers: []gwv1.HTTPHeaderMatch{hdr("x")}}},
		),
		route("b", "old", old,
			[]gwv1.HTTPRouteMatch{{Path: prefix("/a")}, {Path: prefix("/a"), QueryParams: []gwv1.HTTPQueryParamMatch{qp("q")}}},
			[]gwv1.HTTPRouteMatch{{Path: prefix("/a")}},
			[]gwv1.HTTPRouteMatch{{Path: prefix("/a"), Method: ptr(gwv1.HTTPMethodPost)}},
			nil, // no matches: prefix "/"
		),
		route("a", "old", old,
			[]gwv1.HTTPRouteMatch{{Path: prefix("/a")}},
			[]gwv1.HTTPRouteMatch{{Path: prefix("/a"), Headers: []gwv1.HTTPHeaderMatch{hdr("x"), hdr("y")}}},
			[]gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchExact), Value: ptr("/a")}}},
			[]gwv1.HTTPRouteMatch{{Path: prefix("/a/long")}},
			[]gwv1.HTTPRouteMatch{{Path: regex("/a/[0-9]+")}, {Path: regex("/a/.*")}},
		),
	}
	want := []string{
		"a/old/rule/2/match/0",   // exact path
		"a/old/rule/4/match/0",   // the longer regex
		"a/old/rule/4/match/1",   // the shorter regex
		"a/old/rule/3/match/0",   // longest prefix
		"b/old/rule/2/match/0",   // method
		"a/old/rule/1/match/0",   // two headers
		"b/newer/rule/1/match/0", // one header
		"b/old/rule/0/match/1",   // one query param
		"a/old/rule/0/match/0",   // plain /a: oldest, then namespace/name ...
		"b/old/rule/0/match/0",   // ... then rule order
		"b/old/rule/1/match/0",
		"b/newer/rule/0/match/0", // newer route last among equals
		"b/old/rule/3/match/0",   // "/" is the shortest prefix
	}

	b := &gatewayBuilder{r: &Resources{}, w: model.NewSnapshot(model.World{}), entries: map[*model.HTTPRoute][]*routeEntry{},
		serviceClusters: map[string]*builtCluster{}, usedServiceClusters: map[string]bool{}}
	var entries []*routeEntry
	for _, r := range routes {
		entries = append(entries, b.routeEntries(r)...)
	}
	for seed := range uint64(5) {
		rand.New(rand.NewPCG(seed, 7)).Shuffle(len(entries), func(i, j int) { entries[i], entries[j] = entries[j], entries[i] })
		slices.SortStableFunc(entries, func(x, y *routeEntry) int {
			switch {
			case x.precedes(y):
				return -1
			case y.precedes(x):
				return 1
			}
			return 0
		})
		var got []string
		for _, e := range entries {
			got = append(got, e.envoy.GetName())
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("seed %d: order (-want +got):\n%s", seed, diff)
		}
	}
}
