package translator

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

// TestStatusesRouteRules covers the conditions of invalid matches, filters
// and mirrors, and checks that the proxy's config agrees: a rule reported
// as answering 500 does, a dropped mirror leaves its rule serving.
func TestStatusesRouteRules(t *testing.T) {
	const head = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: gloo-system}\n" +
		"spec:\n  parentRefs: [{name: http}]\n  rules:\n"
	const good = "  - matches: [{path: {type: PathPrefix, value: /good}}]\n" +
		"    backendRefs: [{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]\n"
	const toHost = "    backendRefs: [{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]\n"
	for _, tc := range []struct {
		name  string
		rules string
		want  []string
		// wantMessage must appear in the condition of type wantIn.
		wantIn, wantMessage string
		// bad is the rule ("rule/1") whose first match answers 500, if any.
		bad string
		// mirrors: how many mirror policies rule 1's route has.
		mirrors int
	}{{
		name:        "one invalid match: partially invalid",
		rules:       good + "  - matches: [{path: {type: RegularExpression, value: '/a/[0-9'}}, {path: {value: /b}}]\n" + toHost,
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs", "PartiallyInvalid=True/UnsupportedValue"},
		wantIn:      "PartiallyInvalid",
		wantMessage: "Dropped Rule(s): spec.rules[1].matches[0].path.value: invalid regular expression",
	}, {
		name:        "one rule with an invalid filter: partially invalid, the rule answers 500",
		rules:       good + "  - filters: [{type: RequestRedirect, requestRedirect: {statusCode: 399}}]\n",
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs", "PartiallyInvalid=True/UnsupportedValue"},
		wantIn:      "PartiallyInvalid",
		wantMessage: "spec.rules[1].filters[0].requestRedirect.statusCode: status code 399 is not supported",
		bad:         "rule/1",
	}, {
		name:        "every rule invalid: not accepted",
		rules:       "  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}, {type: URLRewrite, urlRewrite: {hostname: a.example.com}}]\n",
		want:        []string{"Accepted=False/IncompatibleFilters", "ResolvedRefs=True/ResolvedRefs"},
		wantIn:      "Accepted",
		wantMessage: "every rule is invalid: spec.rules[0].filters: RequestRedirect and URLRewrite cannot be combined",
		bad:         "rule/0",
	}, {
		name: "mirror to a missing Service: dropped, the rule serves",
		rules: good + "  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: ratings, port: 9080}}}," +
			" {type: RequestMirror, requestMirror: {backendRef: {group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}, percent: 10}}]\n" + toHost,
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"},
		wantIn:      "ResolvedRefs",
		wantMessage: "spec.rules[1].filters[0].requestMirror.backendRef: Service gloo-system/ratings not found in cluster cluster-1",
		mirrors:     1,
	}, {
		name:        "unknown ExtensionRef: the rule answers 500",
		rules:       good + "  - filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Auth, name: x}}]\n" + toHost,
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=False/InvalidKind"},
		wantIn:      "ResolvedRefs",
		wantMessage: `spec.rules[1].filters[0].extensionRef: ExtensionRef group "example.com" kind "Auth"`,
		bad:         "rule/1",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			w := parseWorld(t, statusWorld, head+tc.rules)
			rep := Statuses(w)
			conds := rep.HTTPRoutes[0].Parents[0].Conditions
			if diff := cmp.Diff(tc.want, condSummary(conds)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			for _, c := range conds {
				if c.Type == tc.wantIn && !strings.Contains(c.Message, tc.wantMessage) {
					t.Errorf("%s message %q does not contain %q", c.Type, c.Message, tc.wantMessage)
				}
			}
			res := Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1"}, testCredentials)
			checkResources(t, res)
			for _, vh := range res.Routes[0].GetVirtualHosts() {
				for _, r := range vh.GetRoutes() {
					if r.GetName() != "gloo-system/r/rule/1/match/0" && r.GetName() != "gloo-system/r/rule/0/match/0" {
						continue
					}
					is500 := r.GetDirectResponse().GetStatus() == 500
					if want := tc.bad != "" && strings.Contains(r.GetName(), tc.bad); is500 != want {
						t.Errorf("%s answers 500: %v, want %v", r.GetName(), is500, want)
					}
					if strings.Contains(r.GetName(), "rule/1") && tc.bad == "" {
						if got := len(r.GetRoute().GetRequestMirrorPolicies()); got != tc.mirrors {
							t.Errorf("%s has %d mirror policies, want %d", r.GetName(), got, tc.mirrors)
						}
					}
				}
			}
		})
	}
}
