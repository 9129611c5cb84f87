package translator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wsDoc is a Workspace document over the given namespaces (any cluster).
func wsDoc(name, namespaces, extra string) string {
	return fmt.Sprintf("apiVersion: networking.causeway.dev/v1alpha1\nkind: Workspace\nmetadata: {name: %s}\n"+
		"spec:\n  workloadClusters: [{name: \"*\", namespaces: %s}]\n%s", name, namespaces, extra)
}

// wsVD is a VirtualDestination of reviews.mesh.internal.com:9080 selecting app: reviews.
func wsVD(ns, name string) string {
	return fmt.Sprintf("apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: %s, namespace: %s}\n"+
		"spec: {hosts: [reviews.mesh.internal.com], ports: [{number: 9080}], services: [{labels: {app: reviews}}]}", name, ns)
}

// wsService is reviews in namespace ns of cluster-1.
func wsService(ns, addr string) string {
	return fmt.Sprintf("apiVersion: world.causeway.dev/v1alpha1\nkind: Service\nmetadata: {name: reviews, namespace: %s, labels: {app: reviews}}\n"+
		"spec: {cluster: cluster-1, ports: [{name: http, port: 9080}], endpoints: [{address: %s}]}", ns, addr)
}

func TestStatusesWorkspaces(t *testing.T) {
	// statusWorld's bookinfo/reviews (selecting reviews in both clusters)
	// is in workspace team-b (bookinfo), next to team-a (team-a) and the
	// gateways' workspace.
	gateways := wsDoc("gateways", "[{name: gloo-system}]", "")
	for _, tc := range []struct {
		name string
		docs []string
		want []VirtualDestinationStatus
	}{{
		name: "conflict across an import/export pair: the newer is INVALID naming the older",
		docs: []string{gateways,
			wsDoc("team-a", "[{name: team-a}]", "  importFrom: [{name: team-b}]\n"),
			wsDoc("team-b", "[{name: bookinfo}]", "  exportTo: [{name: team-a}]\n"),
			wsVD("team-a", "reviews"), wsService("team-a", "127.0.1.50")},
		want: []VirtualDestinationStatus{
			{Namespace: "bookinfo", Name: "reviews", State: StateAccepted,
				Message: "selects 2 Service(s) in cluster-1, cluster-2", SelectedServices: 2, Clusters: []string{"cluster-1", "cluster-2"}},
			{Namespace: "team-a", Name: "reviews", State: StateInvalid,
				Message:          "spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by VirtualDestination bookinfo/reviews in workspace team-b; ignored here",
				SelectedServices: 3, Clusters: []string{"cluster-1", "cluster-2"}}, // team-a sees team-b's Services too
		},
	}, {
		name: "same host in unconnected workspaces: both accepted, each with its own Services",
		docs: []string{gateways, wsDoc("team-a", "[{name: team-a}]", ""), wsDoc("team-b", "[{name: bookinfo}]", ""),
			wsVD("team-a", "reviews"), wsService("team-a", "127.0.1.50")},
		want: []VirtualDestinationStatus{
			{Namespace: "bookinfo", Name: "reviews", State: StateAccepted,
				Message: "selects 2 Service(s) in cluster-1, cluster-2", SelectedServices: 2, Clusters: []string{"cluster-1", "cluster-2"}},
			{Namespace: "team-a", Name: "reviews", State: StateAccepted,
				Message: "selects 1 Service(s) in cluster-1", SelectedServices: 1, Clusters: []string{"cluster-1"}},
		},
	}, {
		name: "VirtualDestination in no workspace is INVALID",
		docs: []string{wsDoc("team-a", "[{name: team-a}, {name: gloo-system}]", ""), wsVD("team-a", "reviews"), wsService("team-a", "127.0.1.50")},
		want: []VirtualDestinationStatus{
			{Namespace: "bookinfo", Name: "reviews", State: StateInvalid,
				Message: "metadata.namespace: namespace bookinfo is in no Workspace (workspaces: [team-a]); the object is ignored"},
			{Namespace: "team-a", Name: "reviews", State: StateAccepted,
				Message: "selects 1 Service(s) in cluster-1", SelectedServices: 1, Clusters: []string{"cluster-1"}},
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

func TestStatusesWorkspaceRoutesAndGateways(t *testing.T) {
	route := func(ns, backend string) string {
		return fmt.Sprintf("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: %s}\n"+
			"spec:\n  parentRefs: [{name: http, namespace: gloo-system}]\n  rules: [{backendRefs: [%s]}]\n", ns, backend)
	}
	const toHost = "{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}"
	const toVD = "{group: networking.causeway.dev, kind: VirtualDestination, name: reviews, namespace: bookinfo}"
	const grant = `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-team-a, namespace: bookinfo}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: team-a}]
  to: [{group: networking.causeway.dev, kind: VirtualDestination}]`
	teams := func(aExtra, bExtra string) []string {
		return []string{wsDoc("gateways", "[{name: gloo-system}]", ""),
			wsDoc("team-a", "[{name: team-a}]", aExtra), wsDoc("team-b", "[{name: bookinfo}]", bExtra)}
	}
	for _, tc := range []struct {
		name        string
		docs        []string
		want        []string
		wantMessage string
	}{{
		name:        "host in an unconnected workspace",
		docs:        append(teams("", ""), route("team-a", toHost)),
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"},
		wantMessage: "is served in workspace team-b, which workspace team-a does not see (team-a does not import from team-b and team-b does not export to team-a)",
	}, {
		name:        "VirtualDestination exported but not imported",
		docs:        append(teams("", "  exportTo: [{name: team-a}]\n"), route("team-a", toVD), grant),
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"},
		wantMessage: "VirtualDestination bookinfo/reviews is in workspace team-b, which workspace team-a does not see (team-a does not import from team-b)",
	}, {
		name: "VirtualDestination imported and exported",
		docs: append(teams("  importFrom: [{name: team-b}]\n", "  exportTo: [{name: team-a}]\n"), route("team-a", toVD), grant),
		want: []string{"Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"},
	}, {
		name: "Service in a workspace the route's does not see",
		docs: append(teams("", ""), route("team-a", "{name: productpage, namespace: bookinfo, port: 9080}"),
			strings.Replace(grant, "{group: networking.causeway.dev, kind: VirtualDestination}", `{group: "", kind: Service}`, 1)),
		want:        []string{"Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound"},
		wantMessage: "Service bookinfo/productpage in cluster cluster-1 is in workspace team-b, which workspace team-a does not see",
	}, {
		name:        "route in no workspace",
		docs:        append(teams("", ""), route("elsewhere", toHost)),
		want:        []string{"Accepted=False/NotInWorkspace"},
		wantMessage: "namespace elsewhere is in no Workspace",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Statuses(parseWorld(t, append([]string{statusWorld}, tc.docs...)...))
			if len(rep.HTTPRoutes) != 1 || len(rep.HTTPRoutes[0].Parents) != 1 {
				t.Fatalf("route statuses %+v, want one route with one parent", rep.HTTPRoutes)
			}
			conds := rep.HTTPRoutes[0].Parents[0].Conditions
			if diff := cmp.Diff(tc.want, condSummary(conds)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if msg := conds[len(conds)-1].Message; !strings.Contains(msg, tc.wantMessage) {
				t.Errorf("message %q does not contain %q", msg, tc.wantMessage)
			}
		})
	}
}

func TestStatusesGatewayOutsideWorkspaces(t *testing.T) {
	rep := Statuses(parseWorld(t, statusWorld, wsDoc("team-b", "[{name: bookinfo}]", "")))
	var got [][]string
	for _, gw := range rep.Gateways {
		got = append(got, append([]string{gw.Namespace + "/" + gw.Name}, condSummary(gw.Conditions)...))
		for _, l := range gw.Listeners {
			got = append(got, append([]string{"listener " + string(l.Name)}, condSummary(l.Conditions)...))
		}
	}
	want := [][]string{
		{"gloo-system/http", "Accepted=False/NotInWorkspace", "Programmed=False/Invalid"},
		{"listener http", "Accepted=False/NotInWorkspace", "Programmed=False/Invalid"},
		{"gloo-system/local", "Accepted=False/NotInWorkspace", "Programmed=False/Invalid"},
		{"listener web", "Accepted=False/NotInWorkspace", "Programmed=False/Invalid"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("gateway statuses (-want +got):\n%s", diff)
	}
}
