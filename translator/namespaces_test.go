package translator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

// selectorWorld is statusWorld plus a Gateway "sel" in gloo-system whose
// listener takes routes from namespaces labelled team=a (or, on listener
// "names", namespace team-c by its implicit name label), and an HTTPRoute
// "r" in each of team-a, team-b and team-c attached to it.
func selectorWorld(t *testing.T, namespaces ...model.Namespace) *model.Snapshot {
	t.Helper()
	docs := []string{statusWorld, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: sel, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: team, port: 8090, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}}
  - {name: names, port: 8091, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [team-c]}]}}}}`}
	for _, ns := range []string{"team-a", "team-b", "team-c"} {
		docs = append(docs, fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: %s}
spec: {parentRefs: [{name: sel, namespace: gloo-system}], rules: [{backendRefs: [{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]}]}`, ns))
	}
	base := parseWorld(t, docs...)
	return model.NewSnapshot(model.World{Clusters: base.Clusters(), Services: base.Services(),
		VirtualDestinations: base.VirtualDestinations(), Gateways: base.Gateways(), HTTPRoutes: base.HTTPRoutes(),
		GatewayClasses: base.GatewayClasses(), Namespaces: namespaces})
}

// routeAcceptance is each route's Accepted condition, by namespace.
func routeAcceptance(rep *StatusReport) map[string]string {
	out := map[string]string{}
	for _, r := range rep.HTTPRoutes {
		for _, p := range r.Parents {
			for _, c := range p.Conditions {
				if c.Type == "Accepted" {
					out[r.Namespace] = string(c.Status) + "/" + c.Reason
				}
			}
		}
	}
	return out
}

// TestNamespaceSelectorFollowsLabels: which routes attach follows the
// Namespace labels of the world, in status and in the routes proxies get.
func TestNamespaceSelectorFollowsLabels(t *testing.T) {
	for _, tc := range []struct {
		name       string
		namespaces []model.Namespace
		want       map[string]string
	}{{
		name: "no Namespace objects: only the implicit name label",
		want: map[string]string{"team-a": "False/NotAllowedByListeners", "team-b": "False/NotAllowedByListeners", "team-c": "True/Accepted"},
	}, {
		name:       "team-a labelled",
		namespaces: []model.Namespace{{Name: "team-a", Labels: map[string]string{"team": "a"}}, {Name: "team-b", Labels: map[string]string{"team": "b"}}},
		want:       map[string]string{"team-a": "True/Accepted", "team-b": "False/NotAllowedByListeners", "team-c": "True/Accepted"},
	}, {
		name: "a label cannot claim another namespace's name",
		namespaces: []model.Namespace{{Name: "team-b", Labels: map[string]string{"kubernetes.io/metadata.name": "team-c"}},
			{Name: "team-a", Labels: map[string]string{"team": "a"}}},
		want: map[string]string{"team-a": "True/Accepted", "team-b": "False/NotAllowedByListeners", "team-c": "True/Accepted"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			w := selectorWorld(t, tc.namespaces...)
			rep := Statuses(w)
			if diff := cmp.Diff(tc.want, routeAcceptance(rep)); diff != "" {
				t.Errorf("route Accepted by namespace (-want +got):\n%s", diff)
			}
			for _, gw := range rep.Gateways {
				for _, l := range gw.Listeners {
					if gw.Name == "sel" && condSummary(l.Conditions)[0] != "Accepted=True/Accepted" {
						t.Errorf("listener %s: %v, want accepted", l.Name, condSummary(l.Conditions))
					}
				}
			}
			// The proxy's routes agree with the status: a route in an
			// allowed namespace has a route on the listener's port.
			res := Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1"}, testCredentials)
			for _, d := range res.Diagnostics {
				if strings.Contains(d.Field, "allowedRoutes") {
					t.Errorf("unexpected diagnostic %+v", d)
				}
			}
			got := map[string]bool{}
			for _, rc := range res.Routes {
				for _, vh := range rc.VirtualHosts {
					for _, r := range vh.Routes {
						got[rc.Name+" "+r.GetName()] = true
					}
				}
			}
			for ns, acc := range tc.want {
				port := "8090"
				if ns == "team-c" {
					port = "8091"
				}
				attached := false
				for k := range got {
					if strings.HasPrefix(k, "gateway_"+port+" ") && strings.Contains(k, ns+"/r") {
						attached = true
					}
				}
				if attached != strings.HasPrefix(acc, "True") {
					t.Errorf("route %s/r on gateway_%s: %v, want %v (routes: %v)", ns, port, attached, !attached, got)
				}
			}
		})
	}
}

// TestNamespaceSelectorInvalid: a selector that does not parse makes its
// listener invalid (Accepted False, UnsupportedValue), naming the field.
func TestNamespaceSelectorInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, allowed, wantMessage string
	}{
		{"unknown operator", `{namespaces: {from: Selector, selector: {matchExpressions: [{key: team, operator: Near, values: [a]}]}}}`, `"Near" is not a valid label selector operator`},
		{"In without values", `{namespaces: {from: Selector, selector: {matchExpressions: [{key: team, operator: In}]}}}`, "for 'in', 'notin' operators, values set can't be empty"},
		{"bad label key", `{namespaces: {from: Selector, selector: {matchLabels: {"-team": a}}}}`, "-team"},
		{"no selector", `{namespaces: {from: Selector}}`, "from: Selector needs a selector"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := parseWorld(t, statusWorld, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: sel, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners: [{name: bad, port: 8090, protocol: HTTP, allowedRoutes: `+tc.allowed+`}]`)
			var found bool
			for _, gw := range Statuses(w).Gateways {
				if gw.Name != "sel" {
					continue
				}
				found = true
				l := gw.Listeners[0]
				if diff := cmp.Diff([]string{"Accepted=False/UnsupportedValue", "Programmed=False/Invalid", "ResolvedRefs=True/ResolvedRefs"}, condSummary(l.Conditions)); diff != "" {
					t.Errorf("listener conditions (-want +got):\n%s", diff)
				}
				if !strings.Contains(l.Conditions[0].Message, tc.wantMessage) {
					t.Errorf("Accepted message %q does not contain %q", l.Conditions[0].Message, tc.wantMessage)
				}
			}
			if !found {
				t.Fatal("no status for Gateway gloo-system/sel")
			}
			res := Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1"}, testCredentials)
			var diag bool
			for _, d := range res.Diagnostics {
				if d.Object == "Gateway gloo-system/sel" && d.Field == "spec.listeners[0].allowedRoutes.namespaces.selector" && strings.Contains(d.Message, tc.wantMessage) {
					diag = true
				}
			}
			if !diag {
				t.Errorf("no diagnostic on spec.listeners[0].allowedRoutes.namespaces.selector; got %+v", res.Diagnostics)
			}
			for _, l := range res.Listeners {
				if l.GetName() == "gateway_8090" {
					t.Errorf("the invalid listener got an Envoy listener")
				}
			}
		})
	}
}

// TestNamespaceLabelChangeIsStructural: a change of Namespace labels alone
// is never taken for an endpoints-only change, so proxies get new routes
// (the fast path would push only endpoints).
func TestNamespaceLabelChangeIsStructural(t *testing.T) {
	before := selectorWorld(t, model.Namespace{Name: "team-a"})
	after := selectorWorld(t, model.Namespace{Name: "team-a", Labels: map[string]string{"team": "a"}})
	if _, ok := EndpointsOnlyChange(before, after); ok {
		t.Fatal("EndpointsOnlyChange took a Namespace label change for an endpoints-only change")
	}
	if _, ok := EndpointsOnlyChange(before, selectorWorld(t, model.Namespace{Name: "team-a"})); !ok {
		t.Fatal("EndpointsOnlyChange refused two equal worlds")
	}
}
