package translator

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/wrapperspb"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

func exactOrigin(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}, IgnoreCase: true}
}

func regexOrigin(s string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: s}}}
}

func TestCompileCORS(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *gwv1.HTTPCORSFilter
		want *corsv3.CorsPolicy
		// problems are the fields at fault when the filter is invalid.
		problems []string
	}{{
		name: "every field",
		f: &gwv1.HTTPCORSFilter{
			AllowOrigins:     []gwv1.CORSOrigin{"https://app.example", "HTTP://Other.Example:80", "https://*.trusted.example:8443"},
			AllowCredentials: ptr(true),
			AllowMethods:     []gwv1.HTTPMethodWithWildcard{"GET", "PUT", "GET"},
			AllowHeaders:     []gwv1.HTTPHeaderName{"X-Custom", "x-custom", "Authorization"},
			ExposeHeaders:    []gwv1.HTTPHeaderName{"X-Served-By"},
			MaxAge:           600,
		},
		want: &corsv3.CorsPolicy{
			AllowOriginStringMatch: []*matcherv3.StringMatcher{
				exactOrigin("https://app.example"),
				exactOrigin("http://other.example"), // the default port goes, as browsers leave it out
				regexOrigin(`^https://[^/:?#@]+\.trusted\.example:8443$`),
			},
			AllowCredentials:             wrapperspb.Bool(true),
			AllowMethods:                 "GET,PUT",
			AllowHeaders:                 "x-custom,authorization",
			ExposeHeaders:                "x-served-by",
			MaxAge:                       "600",
			ForwardNotMatchingPreflights: wrapperspb.Bool(false),
		},
	}, {
		name: "defaults: maxAge 5, no credentials header, wildcards",
		f: &gwv1.HTTPCORSFilter{AllowOrigins: []gwv1.CORSOrigin{"*"}, AllowCredentials: ptr(false),
			AllowMethods: []gwv1.HTTPMethodWithWildcard{"*"}, AllowHeaders: []gwv1.HTTPHeaderName{"*"}},
		want: &corsv3.CorsPolicy{
			AllowOriginStringMatch:       []*matcherv3.StringMatcher{regexOrigin(".*")},
			AllowMethods:                 "*",
			AllowHeaders:                 "*",
			MaxAge:                       "5",
			ForwardNotMatchingPreflights: wrapperspb.Bool(false),
		},
	}, {
		name:     "no cors field",
		problems: []string{"f"},
	}, {
		name: "bad origins",
		f: &gwv1.HTTPCORSFilter{AllowOrigins: []gwv1.CORSOrigin{
			"app.example", "https://app.example/path", "https://a.*.example", "https://app.example:70000", "https://ok.example",
			"https://" + gwv1.CORSOrigin(strings.Repeat("a.", 60)) + "*"}},
		problems: []string{"f.allowOrigins[0]", "f.allowOrigins[1]", "f.allowOrigins[2]", "f.allowOrigins[3]", "f.allowOrigins[5]"},
	}, {
		name: "a long wildcard origin is too complex for Envoy's regex limit",
		f: &gwv1.HTTPCORSFilter{AllowOrigins: []gwv1.CORSOrigin{
			"https://*." + gwv1.CORSOrigin(strings.Repeat("a", 100)) + ".example"}},
		problems: []string{"f.allowOrigins[0]"},
	}, {
		name:     "star beside other origins",
		f:        &gwv1.HTTPCORSFilter{AllowOrigins: []gwv1.CORSOrigin{"*", "https://app.example"}},
		problems: []string{"f.allowOrigins[0]"},
	}, {
		name: "bad lists and maxAge",
		f: &gwv1.HTTPCORSFilter{
			AllowMethods:  []gwv1.HTTPMethodWithWildcard{"GET", "*"},
			AllowHeaders:  []gwv1.HTTPHeaderName{"x custom"},
			ExposeHeaders: []gwv1.HTTPHeaderName{"x-ok", "bad:header"},
			MaxAge:        -1,
		},
		problems: []string{"f.allowMethods[1]", "f.allowHeaders[0]", "f.exposeHeaders[1]", "f.maxAge"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := compileCORS(tc.f, "f")
			var fields []string
			for _, p := range problems {
				if p.message == "" || p.reason != gwv1.RouteReasonUnsupportedValue {
					t.Errorf("problem %+v: want a message and reason UnsupportedValue", p)
				}
				fields = append(fields, p.field)
			}
			if diff := cmp.Diff(tc.problems, fields); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", diff, problems)
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
			if got != nil {
				if err := got.ValidateAll(); err != nil {
					t.Errorf("Envoy would refuse the policy: %v", err)
				}
			}
		})
	}
}

// TestCORSOriginMatching runs Origin header values through the matchers
// the way Envoy applies them (RE2 is Go's regexp syntax).
func TestCORSOriginMatching(t *testing.T) {
	matches := func(m *matcherv3.StringMatcher, origin string) bool {
		if e := m.GetExact(); e != "" {
			return strings.EqualFold(e, origin)
		}
		return regexp.MustCompile(m.GetSafeRegex().GetRegex()).MatchString(origin)
	}
	for _, tc := range []struct {
		pattern   string
		allow, no []string
	}{
		{"https://app.example", []string{"https://app.example", "https://APP.example"},
			[]string{"http://app.example", "https://app.example:8443", "https://app.example.evil", "https://sub.app.example"}},
		{"https://app.example:443", []string{"https://app.example"}, []string{"https://app.example:443"}},
		{"http://app.example:8080", []string{"http://app.example:8080"}, []string{"http://app.example"}},
		{"https://*.trusted.example", []string{"https://a.trusted.example", "https://a.b.trusted.example"},
			[]string{"https://trusted.example", "http://a.trusted.example", "https://a.trusted.example:8443",
				"https://evil.example/.trusted.example", "https://evil.example?.trusted.example", "https://a.trusted.example.evil",
				"https://user@a.trusted.example"}},
		{"https://*", []string{"https://a.example", "https://b"}, []string{"http://a.example", "https://a.example:8443"}},
		{"*", []string{"https://a.example", "http://b:1", "null"}, nil},
	} {
		m, err := corsOriginMatcher(tc.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		for _, o := range tc.allow {
			if !matches(m, o) {
				t.Errorf("pattern %s does not allow Origin %s", tc.pattern, o)
			}
		}
		for _, o := range tc.no {
			if matches(m, o) {
				t.Errorf("pattern %s allows Origin %s", tc.pattern, o)
			}
		}
	}
}

// TestStatusesCORSAndAppProtocol: a valid CORS filter gives its routes a
// CorsPolicy; an invalid one makes its rule answer 500 with
// PartiallyInvalid; a kubernetes.io/wss backend is refused with
// UnsupportedProtocol; h2c and ws pick the upstream HTTP version.
func TestStatusesCORSAndAppProtocol(t *testing.T) {
	// In both clusters: Gateway http is served in each.
	services := ""
	for _, cluster := range []string{"cluster-1", "cluster-2"} {
		services += `
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: apps, namespace: gloo-system}
spec:
  cluster: ` + cluster + `
  ports:
  - {name: ws, port: 81, appProtocol: kubernetes.io/ws}
  - {name: h2c, port: 82, appProtocol: kubernetes.io/h2c}
  - {name: wss, port: 83, appProtocol: kubernetes.io/wss}
  - {name: grpc, port: 84, appProtocol: grpc}
  endpoints: [{address: 127.0.1.30}]`
	}
	const head = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: gloo-system}\n" +
		"spec:\n  parentRefs: [{name: http}]\n  rules:\n"
	rule := func(path string, port int, filters string) string {
		return "  - matches: [{path: {type: PathPrefix, value: " + path + "}}]\n" + filters +
			"    backendRefs: [{name: apps, port: " + strconv.Itoa(port) + "}]\n"
	}
	for _, tc := range []struct {
		name        string
		rules       string
		want        []string
		wantMessage string
		// cors and bad: the rules (by index) whose route has a CorsPolicy, answers 500.
		cors, bad []int
	}{{
		name: "CORS, ws and h2c backends",
		rules: rule("/cors", 81, "    filters: [{type: CORS, cors: {allowOrigins: [https://app.example]}}]\n") +
			rule("/h2c", 82, "") + rule("/grpc", 84, ""),
		want: []string{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"},
		cors: []int{0},
	}, {
		name: "invalid CORS: partially invalid, the rule answers 500",
		rules: rule("/ok", 81, "") +
			rule("/cors", 81, "    filters: [{type: CORS, cors: {allowOrigins: ['https://a.*.example']}}]\n"),
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs", "PartiallyInvalid=True/UnsupportedValue"},
		wantMessage: "spec.rules[1].filters[0].cors.allowOrigins[0]: origin \"https://a.*.example\": a wildcard may only start the host",
		bad:         []int{1},
	}, {
		name:        "kubernetes.io/wss backend: UnsupportedProtocol",
		rules:       rule("/ok", 81, "") + rule("/wss", 83, ""),
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=False/UnsupportedProtocol"},
		wantMessage: "Service gloo-system/apps port 83: appProtocol kubernetes.io/wss needs TLS to the backend",
		bad:         []int{1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			w := parseWorld(t, statusWorld, services, head+tc.rules)
			conds := Statuses(w).HTTPRoutes[0].Parents[0].Conditions
			if diff := cmp.Diff(tc.want, condSummary(conds)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s\n%+v", diff, conds)
			}
			if tc.wantMessage != "" {
				found := false
				for _, c := range conds {
					found = found || strings.Contains(c.Message, tc.wantMessage)
				}
				if !found {
					t.Errorf("no condition message contains %q: %+v", tc.wantMessage, conds)
				}
			}
			res := Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1"}, testCredentials)
			checkResources(t, res)
			routes := map[string]bool{}
			for _, vh := range res.Routes[0].GetVirtualHosts() {
				for _, r := range vh.GetRoutes() {
					if !strings.HasPrefix(r.GetName(), "gloo-system/r/rule/") {
						continue
					}
					idx := int(r.GetName()[len("gloo-system/r/rule/")] - '0')
					routes[r.GetName()] = true
					_, hasCORS := r.GetTypedPerFilterConfig()[wellknown.CORS]
					if want := slices.Contains(tc.cors, idx); hasCORS != want {
						t.Errorf("%s has a CorsPolicy: %v, want %v", r.GetName(), hasCORS, want)
					}
					if is500, want := r.GetDirectResponse().GetStatus() == 500, slices.Contains(tc.bad, idx); is500 != want {
						t.Errorf("%s answers 500: %v, want %v", r.GetName(), is500, want)
					}
				}
			}
			if len(routes) == 0 {
				t.Fatal("no route of HTTPRoute r in the output")
			}
			for _, c := range res.Clusters {
				port, http2 := c.GetName(), c.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey] != nil
				switch {
				case strings.HasPrefix(port, "outbound|81|"), strings.HasPrefix(port, "outbound|83|"):
					if http2 {
						t.Errorf("cluster %s speaks HTTP/2; WebSocket upgrades need HTTP/1.1", port)
					}
				case strings.HasPrefix(port, "outbound|82|"), strings.HasPrefix(port, "outbound|84|"):
					if !http2 {
						t.Errorf("cluster %s speaks HTTP/1.1; its appProtocol asks for HTTP/2", port)
					}
				}
			}
		})
	}
}
