package translator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

// statusWorld is the common part of the status test worlds: two clusters,
// reviews in both and productpage in cluster-1 only, the VirtualDestination
// reviews, and two Gateways in gloo-system: "http" takes routes from every
// namespace, "local" only from its own and only for *.example.com.
const statusWorld = `
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec: {locality: {region: us-east, zone: us-east-1a}, eastWestGateways: [{address: 127.0.1.100}]}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-2}
spec: {locality: {region: us-west, zone: us-west-1a}, eastWestGateways: [{address: 127.0.2.100}]}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: reviews, namespace: bookinfo, labels: {app: reviews}}
spec: {cluster: cluster-1, ports: [{name: http, port: 9080}], endpoints: [{address: 127.0.1.10}]}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: reviews, namespace: bookinfo, labels: {app: reviews}}
spec: {cluster: cluster-2, ports: [{name: http, port: 9080}], endpoints: [{address: 127.0.2.10}]}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: productpage, namespace: bookinfo, labels: {app: productpage}}
spec: {cluster: cluster-1, ports: [{name: http, port: 9080}], endpoints: [{address: 127.0.1.20}]}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews, namespace: bookinfo}
spec: {hosts: [reviews.mesh.internal.com], ports: [{number: 9080}], services: [{labels: {app: reviews}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: http, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: local, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners: [{name: web, port: 8081, protocol: HTTP, hostname: "*.example.com"}]
`

func parseWorld(t *testing.T, docs ...string) *model.Snapshot {
	t.Helper()
	w, err := file.Parse("world.yaml", []byte(strings.Join(docs, "\n---\n")))
	if err != nil {
		t.Fatalf("world: %v", err)
	}
	return w
}

func TestStatusesVirtualDestinations(t *testing.T) {
	for _, tc := range []struct {
		name string
		docs []string
		want []VirtualDestinationStatus
	}{{
		name: "accepted with services in two clusters",
		want: []VirtualDestinationStatus{{Namespace: "bookinfo", Name: "reviews", State: StateAccepted,
			Message: "selects 2 Service(s) in cluster-1, cluster-2", SelectedServices: 2, Clusters: []string{"cluster-1", "cluster-2"}}},
	}, {
		name: "warning when no services are selected",
		docs: []string{`apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: ratings, namespace: bookinfo}
spec: {hosts: [ratings.mesh.internal.com], ports: [{number: 9080}], services: [{labels: {app: ratings}}]}`},
		want: []VirtualDestinationStatus{
			{Namespace: "bookinfo", Name: "ratings", State: StateWarning, Message: "spec.services: selects no Service; its clusters have no endpoints"},
			{Namespace: "bookinfo", Name: "reviews", State: StateAccepted,
				Message: "selects 2 Service(s) in cluster-1, cluster-2", SelectedServices: 2, Clusters: []string{"cluster-1", "cluster-2"}},
		},
	}, {
		// bookinfo/reviews comes first in namespace/name order and keeps the host.
		name: "invalid when every host:port belongs to another",
		docs: []string{`apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews-copy, namespace: bookinfo}
spec: {hosts: [reviews.mesh.internal.com], ports: [{number: 9080}], services: [{labels: {app: productpage}}]}`},
		want: []VirtualDestinationStatus{
			{Namespace: "bookinfo", Name: "reviews", State: StateAccepted,
				Message: "selects 2 Service(s) in cluster-1, cluster-2", SelectedServices: 2, Clusters: []string{"cluster-1", "cluster-2"}},
			{Namespace: "bookinfo", Name: "reviews-copy", State: StateInvalid,
				Message:          "spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by VirtualDestination bookinfo/reviews; ignored here",
				SelectedServices: 1, Clusters: []string{"cluster-1"}},
		},
	}, {
		name: "warning when only some host:ports belong to another",
		docs: []string{`apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews-more, namespace: bookinfo}
spec: {hosts: [reviews.mesh.internal.com, reviews.global], ports: [{number: 9080}], services: [{labels: {app: reviews}}]}`},
		want: []VirtualDestinationStatus{
			{Namespace: "bookinfo", Name: "reviews", State: StateAccepted,
				Message: "selects 2 Service(s) in cluster-1, cluster-2", SelectedServices: 2, Clusters: []string{"cluster-1", "cluster-2"}},
			{Namespace: "bookinfo", Name: "reviews-more", State: StateWarning,
				Message:          "spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by VirtualDestination bookinfo/reviews; ignored here",
				SelectedServices: 2, Clusters: []string{"cluster-1", "cluster-2"}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := Statuses(parseWorld(t, append([]string{statusWorld}, tc.docs...)...)).VirtualDestinations
			// The conditions these are derived from: status_objects_test.go.
			if diff := cmp.Diff(tc.want, got, ignoreVDConditions); diff != "" {
				t.Errorf("VirtualDestination statuses (-want +got):\n%s", diff)
			}
		})
	}
}

// condSummary renders conditions as "Type=Status/Reason" for compact tables.
func condSummary(conds []metav1.Condition) []string {
	var out []string
	for _, c := range conds {
		out = append(out, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	return out
}

func TestStatusesHTTPRoutes(t *testing.T) {
	const grant = `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-gloo, namespace: bookinfo}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gloo-system}]
  to: [{group: "", kind: Service}]`
	route := func(ns, parents, backends string) string {
		return fmt.Sprintf("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: %s}\n"+
			"spec:\n  parentRefs: %s\n  rules: [{backendRefs: %s}]\n", ns, parents, backends)
	}
	const toHost = `[{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]`
	const pinned = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: pinned, namespace: gloo-system, annotations: {causeway.dev/cluster: cluster-1}}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, port: 8082, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]`
	for _, tc := range []struct {
		name string
		docs []string
		// want is one entry per parent: its conditions, summarised.
		want [][]string
		// wantMessage must appear in the last condition of the first parent.
		wantMessage string
	}{{
		name: "accepted and resolved",
		docs: []string{route("bookinfo", "[{name: http, namespace: gloo-system}]", toHost)},
		want: [][]string{{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"}},
	}, {
		name:        "listener does not allow the namespace",
		docs:        []string{route("bookinfo", "[{name: local, namespace: gloo-system}]", toHost)},
		want:        [][]string{{"Accepted=False/NotAllowedByListeners", "ResolvedRefs=True/ResolvedRefs"}},
		wantMessage: "every backendRef resolved",
	}, {
		name: "listener hostname does not match",
		docs: []string{route("gloo-system", "[{name: local}]", toHost) + "  hostnames: [shop.example.org]\n"},
		want: [][]string{{"Accepted=False/NoMatchingListenerHostname", "ResolvedRefs=True/ResolvedRefs"}},
	}, {
		name: "gateway not found",
		docs: []string{route("bookinfo", "[{name: nope, namespace: gloo-system}]", toHost)},
		want: [][]string{{"Accepted=False/NoMatchingParent", "ResolvedRefs=True/ResolvedRefs"}},
	}, {
		name: "no listener with that sectionName",
		docs: []string{route("bookinfo", "[{name: http, namespace: gloo-system, sectionName: https}]", toHost)},
		want: [][]string{{"Accepted=False/NoMatchingParent", "ResolvedRefs=True/ResolvedRefs"}},
	}, {
		name: "parents that are not Gateways get no status; duplicates one",
		docs: []string{route("bookinfo", "[{group: example.com, kind: Mesh, name: m}, {name: http, namespace: gloo-system}, {name: http, namespace: gloo-system}]", toHost)},
		want: [][]string{{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"}},
	}, {
		name:        "cross-namespace Service without ReferenceGrant",
		docs:        []string{route("gloo-system", "[{name: pinned}]", "[{name: productpage, namespace: bookinfo, port: 9080}]"), pinned},
		want:        [][]string{{"Accepted=True/Accepted", "ResolvedRefs=False/RefNotPermitted"}},
		wantMessage: "spec.rules[0].backendRefs[0]: Service bookinfo/productpage: no ReferenceGrant in namespace bookinfo",
	}, {
		name: "cross-namespace Service with ReferenceGrant",
		docs: []string{route("gloo-system", "[{name: pinned}]", "[{name: productpage, namespace: bookinfo, port: 9080}]"), pinned, grant},
		want: [][]string{{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"}},
	}, {
		name:        "cross-namespace VirtualDestination by name without ReferenceGrant",
		docs:        []string{route("gloo-system", "[{name: http}]", "[{group: networking.causeway.dev, kind: VirtualDestination, name: reviews, namespace: bookinfo}]"), grant},
		want:        [][]string{{"Accepted=True/Accepted", "ResolvedRefs=False/RefNotPermitted"}},
		wantMessage: "VirtualDestination bookinfo/reviews: no ReferenceGrant",
	}, {
		name:        "missing backend",
		docs:        []string{route("bookinfo", "[{name: http, namespace: gloo-system}]", "[{name: ratings, port: 9080}]")},
		want:        [][]string{{"Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"}},
		wantMessage: "Service bookinfo/ratings not found in cluster cluster-1",
	}, {
		// productpage runs in cluster-1 only; "http" is served in both clusters.
		name:        "Service missing in one of the serving clusters",
		docs:        []string{route("bookinfo", "[{name: http, namespace: gloo-system}]", "[{name: productpage, port: 9080}]")},
		want:        [][]string{{"Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"}},
		wantMessage: "not found in cluster cluster-2",
	}, {
		name: "Service present in the one serving cluster",
		docs: []string{route("bookinfo", "[{name: pinned, namespace: gloo-system}]", "[{name: productpage, port: 9080}]"), pinned},
		want: [][]string{{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"}},
	}, {
		name:        "unsupported kind",
		docs:        []string{route("bookinfo", "[{name: http, namespace: gloo-system}]", "[{kind: ConfigMap, name: reviews}]")},
		want:        [][]string{{"Accepted=True/Accepted", "ResolvedRefs=False/InvalidKind"}},
		wantMessage: `group "" kind "ConfigMap" is not supported`,
	}, {
		name: "one status per parent",
		docs: []string{route("bookinfo", "[{name: http, namespace: gloo-system}, {name: local, namespace: gloo-system}]", "[{name: productpage, port: 9080}]"), pinned},
		want: [][]string{
			{"Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"},
			{"Accepted=False/NotAllowedByListeners", "ResolvedRefs=False/BackendNotFound"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Statuses(parseWorld(t, append([]string{statusWorld}, tc.docs...)...))
			if len(rep.HTTPRoutes) != 1 {
				t.Fatalf("got %d route statuses, want 1", len(rep.HTTPRoutes))
			}
			var got [][]string
			for _, p := range rep.HTTPRoutes[0].Parents {
				if p.ControllerName != model.DefaultControllerName {
					t.Errorf("parent %s: controllerName %q, want %q", p.ParentRef.Name, p.ControllerName, model.DefaultControllerName)
				}
				for _, c := range p.Conditions {
					if c.Message == "" {
						t.Errorf("parent %s: condition %s has no message", p.ParentRef.Name, c.Type)
					}
				}
				got = append(got, condSummary(p.Conditions))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parents (-want +got):\n%s", diff)
			}
			if tc.wantMessage != "" && len(got) > 0 {
				conds := rep.HTTPRoutes[0].Parents[0].Conditions
				if msg := conds[len(conds)-1].Message; !strings.Contains(msg, tc.wantMessage) {
					t.Errorf("message %q does not contain %q", msg, tc.wantMessage)
				}
			}
		})
	}
}

// TestStatusesAgreeWithTranslate: a route whose status says ResolvedRefs
// False answers 500 in the proxy's config, and one that says True does not.
func TestStatusesAgreeWithTranslate(t *testing.T) {
	w := parseWorld(t, statusWorld, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: good, namespace: gloo-system}
spec:
  parentRefs: [{name: http}]
  rules: [{matches: [{path: {type: PathPrefix, value: /good}}], backendRefs: [{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bad, namespace: gloo-system}
spec:
  parentRefs: [{name: http}]
  rules: [{matches: [{path: {type: PathPrefix, value: /bad}}], backendRefs: [{name: productpage, namespace: bookinfo, port: 9080}]}]`)
	resolved := map[string]bool{}
	for _, rs := range Statuses(w).HTTPRoutes {
		resolved[rs.Name] = rs.Parents[0].Conditions[1].Status == metav1.ConditionTrue
	}
	res := Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1"}, testCredentials)
	answers500 := map[string]bool{}
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				answers500[strings.Split(r.GetName(), "/")[1]] = r.GetDirectResponse().GetStatus() == 500
			}
		}
	}
	want := map[string]bool{"good": false, "bad": true}
	if diff := cmp.Diff(want, answers500); diff != "" {
		t.Errorf("routes answering 500 (-want +got):\n%s", diff)
	}
	for name, is500 := range answers500 {
		if resolved[name] == is500 {
			t.Errorf("route %s: ResolvedRefs %v but answers 500 = %v", name, resolved[name], is500)
		}
	}
}

func TestStatusesGateways(t *testing.T) {
	// gateway pins the Gateway to cluster unless it is "": set after parsing,
	// since the world file (rightly) refuses unknown clusters.
	gateway := func(cluster, listeners string) *model.Gateway {
		gw := parseWorld(t, fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: gloo-system}
spec: {gatewayClassName: causeway, listeners: %s}`, listeners)).Gateways()[0]
		if cluster != "" {
			gw.Annotations = map[string]string{model.ClusterAnnotation: cluster}
		}
		return gw
	}
	attachedTo := `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: gloo-system}
spec: {parentRefs: [{name: gw}, {name: gw, sectionName: b}], rules: [{backendRefs: [{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]}]}`
	type listener struct {
		Name       string
		Attached   int32
		Kinds      int
		Conditions []string
	}
	type gwSummary struct {
		Conditions []string
		Listeners  []listener
	}
	okListener := []string{"Accepted=True/Accepted", "Programmed=True/Programmed", "ResolvedRefs=True/ResolvedRefs"}
	for _, tc := range []struct {
		name     string
		gw       *model.Gateway
		clusters []model.Cluster
		routes   []string
		want     gwSummary
	}{{
		name:   "programmed, with routes counted per listener",
		gw:     gateway("cluster-1", "[{name: a, port: 80, protocol: HTTP}, {name: b, port: 81, protocol: HTTP}]"),
		routes: []string{attachedTo},
		want: gwSummary{
			Conditions: []string{"Accepted=True/Accepted", "Programmed=True/Programmed"},
			Listeners:  []listener{{"a", 1, 1, okListener}, {"b", 1, 1, okListener}},
		},
	}, {
		name: "pinned to an unknown cluster",
		gw:   gateway("cluster-9", "[{name: a, port: 80, protocol: HTTP}]"),
		want: gwSummary{
			Conditions: []string{"Accepted=True/Accepted", "Programmed=False/Invalid"},
			Listeners:  []listener{{"a", 0, 1, okListener}},
		},
	}, {
		name:     "no cluster serves it",
		gw:       gateway("", "[{name: a, port: 80, protocol: HTTP}]"),
		clusters: []model.Cluster{},
		want: gwSummary{
			Conditions: []string{"Accepted=True/Accepted", "Programmed=False/Invalid"},
			Listeners:  []listener{{"a", 0, 1, okListener}},
		},
	}, {
		name: "no usable listener",
		gw:   gateway("", "[{name: a, port: 443, protocol: TCP}]"),
		want: gwSummary{
			Conditions: []string{"Accepted=False/ListenersNotValid", "Programmed=False/Invalid"},
			Listeners:  []listener{{"a", 0, 0, []string{"Accepted=False/UnsupportedProtocol", "Programmed=False/Invalid", "ResolvedRefs=True/ResolvedRefs"}}},
		},
	}, {
		name:   "some listeners unusable",
		gw:     gateway("", "[{name: a, port: 443, protocol: TCP}, {name: b, port: 81, protocol: HTTP}]"),
		routes: []string{attachedTo},
		want: gwSummary{
			Conditions: []string{"Accepted=True/ListenersNotValid", "Programmed=True/Programmed"},
			Listeners: []listener{
				{"a", 0, 0, []string{"Accepted=False/UnsupportedProtocol", "Programmed=False/Invalid", "ResolvedRefs=True/ResolvedRefs"}},
				{"b", 1, 1, okListener},
			},
		},
	}, {
		name: "unsupported route kinds",
		gw:   gateway("", "[{name: a, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: GRPCRoute}]}}]"),
		want: gwSummary{
			Conditions: []string{"Accepted=True/Accepted", "Programmed=True/Programmed"},
			Listeners:  []listener{{"a", 0, 0, []string{"Accepted=True/Accepted", "Programmed=True/Programmed", "ResolvedRefs=False/InvalidRouteKinds"}}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			base := parseWorld(t, statusWorld)
			world := model.World{Clusters: base.Clusters(), Services: base.Services(), VirtualDestinations: base.VirtualDestinations(),
				GatewayClasses: base.GatewayClasses(), Gateways: []*model.Gateway{tc.gw}}
			if tc.clusters != nil {
				world.Clusters = tc.clusters
			}
			for _, r := range tc.routes {
				world.HTTPRoutes = append(world.HTTPRoutes, parseWorld(t, r).HTTPRoutes()...)
			}
			rep := Statuses(model.NewSnapshot(world))
			if len(rep.Gateways) != 1 {
				t.Fatalf("got %d gateway statuses, want 1", len(rep.Gateways))
			}
			st := rep.Gateways[0]
			got := gwSummary{Conditions: condSummary(st.Conditions)}
			for _, l := range st.Listeners {
				if l.SupportedKinds == nil {
					t.Errorf("listener %s: supportedKinds is nil; the API requires a list", l.Name)
				}
				got.Listeners = append(got.Listeners, listener{string(l.Name), l.AttachedRoutes, len(l.SupportedKinds), condSummary(l.Conditions)})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("gateway status (-want +got):\n%s", diff)
			}
			for _, c := range st.Conditions {
				if c.Message == "" {
					t.Errorf("condition %s has no message", c.Type)
				}
			}
		})
	}
}

// TestStatusesControllerName pins the default name other tools match on.
func TestStatusesControllerName(t *testing.T) {
	if model.DefaultControllerName != "causeway.dev/gateway-controller" {
		t.Errorf("DefaultControllerName = %q", model.DefaultControllerName)
	}
}
