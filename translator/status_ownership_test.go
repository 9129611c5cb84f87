package translator

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

// ownershipWorld has a Gateway of Causeway's class (http), one of another
// controller's (theirs) and one whose class does not exist (lost), and a
// route attached to each, one to both of the first two.
const ownershipWorld = `apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec: {locality: {region: us-east, zone: us-east-1a}, eastWestGateways: [{address: 127.0.1.100}]}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: productpage, namespace: bookinfo}
spec: {cluster: cluster-1, ports: [{name: http, port: 9080}], endpoints: [{address: 127.0.1.20}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.com/other-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: http, namespace: gloo-system}
spec: {gatewayClassName: causeway, listeners: [{name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: theirs, namespace: gloo-system}
spec: {gatewayClassName: other, listeners: [{name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: lost, namespace: gloo-system}
spec: {gatewayClassName: nowhere, listeners: [{name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ours, namespace: bookinfo}
spec:
  parentRefs: [{name: http, namespace: gloo-system}]
  rules: [{backendRefs: [{name: productpage, port: 9080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: both, namespace: bookinfo}
spec:
  parentRefs: [{name: theirs, namespace: gloo-system}, {name: http, namespace: gloo-system}]
  rules: [{backendRefs: [{name: productpage, port: 9080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: theirs, namespace: bookinfo}
spec:
  parentRefs: [{name: theirs, namespace: gloo-system}]
  rules: [{backendRefs: [{name: missing, port: 9080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lost, namespace: bookinfo}
spec:
  parentRefs: [{name: lost, namespace: gloo-system}]
  rules: [{backendRefs: [{name: productpage, port: 9080}]}]
`

func TestStatusesOnlyForOwnedGateways(t *testing.T) {
	rep := Statuses(parseWorld(t, ownershipWorld))
	var gateways []string
	for _, g := range rep.Gateways {
		gateways = append(gateways, g.Namespace+"/"+g.Name)
	}
	if want := []string{"gloo-system/http"}; !slices.Equal(gateways, want) {
		t.Errorf("Gateway statuses for %v, want only %v", gateways, want)
	}
	parents := map[string][]string{}
	for _, r := range rep.HTTPRoutes {
		parents[r.Name] = []string{}
		for _, p := range r.Parents {
			parents[r.Name] = append(parents[r.Name], string(p.ParentRef.Name))
			if p.ControllerName != model.DefaultControllerName {
				t.Errorf("route %s parent %s: controllerName %q", r.Name, p.ParentRef.Name, p.ControllerName)
			}
		}
	}
	want := map[string][]string{"ours": {"http"}, "both": {"http"}, "theirs": {}, "lost": {}}
	if diff := cmp.Diff(want, parents); diff != "" {
		t.Errorf("route status parents (-want +got):\n%s", diff)
	}
	if rep.ControllerName != model.DefaultControllerName {
		t.Errorf("report controllerName %q", rep.ControllerName)
	}
}

func TestStatusesFollowControllerName(t *testing.T) {
	// The same world seen by a Causeway that answers to the other
	// controllerName: theirs is now its Gateway, http is not.
	w := parseWorld(t, ownershipWorld)
	world := model.World{Clusters: w.Clusters(), Services: w.Services(), Gateways: w.Gateways(), HTTPRoutes: w.HTTPRoutes(),
		GatewayClasses: w.GatewayClasses(), ControllerName: "example.com/other-controller"}
	rep := Statuses(model.NewSnapshot(world))
	if len(rep.Gateways) != 1 || rep.Gateways[0].Name != "theirs" {
		t.Errorf("Gateway statuses %+v, want only theirs", rep.Gateways)
	}
	if len(rep.GatewayClasses) != 1 || rep.GatewayClasses[0].Name != "other" {
		t.Errorf("GatewayClass statuses %+v, want only other", rep.GatewayClasses)
	}
	for _, r := range rep.HTTPRoutes {
		for _, p := range r.Parents {
			if p.ParentRef.Name != "theirs" || p.ControllerName != "example.com/other-controller" {
				t.Errorf("route %s: parent %s with controllerName %q", r.Name, p.ParentRef.Name, p.ControllerName)
			}
		}
	}
}

func TestTranslateDiagnosesMissingClassOnly(t *testing.T) {
	res := Translate(parseWorld(t, ownershipWorld), model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1",
		Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}, BindAddress: "127.0.1.1"}, testCredentials)
	var got []string
	for _, d := range res.Diagnostics {
		got = append(got, d.Object+" "+d.Field)
	}
	if want := []string{"Gateway gloo-system/lost spec.gatewayClassName"}; !slices.Equal(got, want) {
		t.Errorf("diagnostics %v, want %v", got, want)
	}
}

func TestGatewayClassStatuses(t *testing.T) {
	const class = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: c}
spec: {controllerName: %s%s}`
	for _, tc := range []struct {
		name, controller, params string
		want                     []string // Accepted status/reason; nil: no status
	}{
		{"ours", "causeway.dev/gateway-controller", "", []string{"True", "Accepted"}},
		{"another controller's", "example.com/other", "", nil},
		{"good parametersRef", "causeway.dev/gateway-controller", ", parametersRef: {group: networking.causeway.dev, kind: GatewayParameters, name: p, namespace: causeway-system}", []string{"True", "Accepted"}},
		{"parametersRef of another kind", "causeway.dev/gateway-controller", ", parametersRef: {group: '', kind: ConfigMap, name: p, namespace: causeway-system}", []string{"False", "InvalidParameters"}},
		{"parametersRef without namespace", "causeway.dev/gateway-controller", ", parametersRef: {group: networking.causeway.dev, kind: GatewayParameters, name: p}", []string{"False", "InvalidParameters"}},
		{"another controller's bad parametersRef", "example.com/other", ", parametersRef: {group: '', kind: ConfigMap, name: p}", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Statuses(parseWorld(t, fmt.Sprintf(class, tc.controller, tc.params)))
			if tc.want == nil {
				if len(rep.GatewayClasses) != 0 {
					t.Fatalf("got status %+v for another controller's class", rep.GatewayClasses)
				}
				return
			}
			if len(rep.GatewayClasses) != 1 {
				t.Fatalf("got %d GatewayClass statuses, want 1", len(rep.GatewayClasses))
			}
			st := rep.GatewayClasses[0]
			if st.Name != "c" || len(st.Conditions) != 1 {
				t.Fatalf("status %+v", st)
			}
			c := st.Conditions[0]
			if got := []string{string(c.Status), c.Reason}; c.Type != "Accepted" || !slices.Equal(got, tc.want) || c.Message == "" {
				t.Errorf("condition %+v, want Accepted %v with a message", c, tc.want)
			}
			if c.Status == metav1.ConditionFalse && !strings.Contains(c.Message, "spec.parametersRef") {
				t.Errorf("message %q does not name spec.parametersRef", c.Message)
			}
			if diff := cmp.Diff(SupportedFeatures(), st.SupportedFeatures, cmpopts.EquateEmpty()); diff != "" || len(st.SupportedFeatures) == 0 {
				t.Errorf("supportedFeatures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSupportedFeaturesSortedAndKnown(t *testing.T) {
	got := SupportedFeatures()
	if !slices.IsSortedFunc(got, func(a, b gwv1.SupportedFeature) int { return strings.Compare(string(a.Name), string(b.Name)) }) {
		t.Errorf("not sorted: %v", got)
	}
	names := map[gwv1.FeatureName]bool{}
	for _, f := range got {
		if names[f.Name] {
			t.Errorf("%s listed twice", f.Name)
		}
		names[f.Name] = true
	}
	// The core features the conformance suite starts from.
	for _, core := range []gwv1.FeatureName{"Gateway", "HTTPRoute", "ReferenceGrant"} {
		if !names[core] {
			t.Errorf("core feature %s missing", core)
		}
	}
	if len(got) > 64 {
		t.Errorf("%d features; the API allows 64", len(got))
	}
}

func TestStatusesWorkspacesLeaveOtherControllersAlone(t *testing.T) {
	w, err := file.Load("../testdata/translator/workspace-other-class/world.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep := Statuses(w)
	if len(rep.Gateways) != 1 || rep.Gateways[0].Name != "http" {
		t.Errorf("Gateway statuses %+v, want only gloo-system/http", rep.Gateways)
	}
	parents := map[string][]string{}
	for _, r := range rep.HTTPRoutes {
		parents[r.Namespace+"/"+r.Name] = []string{}
		for _, p := range r.Parents {
			parents[r.Namespace+"/"+r.Name] = append(parents[r.Namespace+"/"+r.Name], string(p.ParentRef.Name)+" "+p.Conditions[0].Reason)
		}
	}
	want := map[string][]string{
		"team-a/reviews":    {"http Accepted"},
		"other-apps/theirs": {},
		"stray/stray":       {"http " + reasonNotInWorkspace},
	}
	if diff := cmp.Diff(want, parents); diff != "" {
		t.Errorf("route status parents (-want +got):\n%s", diff)
	}
}
