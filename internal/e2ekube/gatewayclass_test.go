package e2ekube

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// otherClassObjects are another controller's GatewayClass and Gateway, a
// route attached only to that Gateway and a route attached to it and to
// Causeway's Gateway gateways/http.
const otherClassObjects = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.com/other-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: theirs, namespace: ` + gatewayNamespace + `}
spec:
  gatewayClassName: other
  listeners:
  - {name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: theirs, namespace: ` + gatewayNamespace + `}
spec:
  parentRefs: [{name: theirs}]
  rules:
  - backendRefs: [{group: networking.istio.io, kind: Hostname, name: ` + reviewsHost + `, port: 9080}]
`

// bothRoute is attached to both Gateways; path varies so that applying it
// again makes a new generation.
func bothRoute(path string) string {
	return `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: both, namespace: ` + gatewayNamespace + `}
spec:
  parentRefs: [{name: theirs}, {name: http}]
  rules:
  - matches: [{path: {type: PathPrefix, value: ` + path + `}}]
    backendRefs: [{group: networking.istio.io, kind: Hostname, name: ` + reviewsHost + `, port: 9080}]
`
}

// testOtherGatewayClass: beside another controller's GatewayClass, Causeway
// writes status on its own GatewayClass, Gateway and route parents only;
// the other controller's GatewayClass, Gateway and the route attached only
// to it are never written (their resourceVersions do not move).
func (s *suite) testOtherGatewayClass(t *testing.T) {
	s.mgmt.apply(t, otherClassObjects)
	s.mgmt.apply(t, bothRoute("/a"))
	t.Cleanup(func() {
		s.mgmt.remove(t, bothRoute("/a"))
		s.mgmt.remove(t, otherClassObjects)
	})
	// The other controller's objects, and their resourceVersions right
	// after creation.
	untouched := []struct{ kind, ns, name, version string }{
		{kind: "GatewayClass", name: "other"}, {kind: "Gateway", ns: gatewayNamespace, name: "theirs"}, {kind: "HTTPRoute", ns: gatewayNamespace, name: "theirs"},
	}
	for i, o := range untouched {
		obj, err := s.mgmt.get(o.kind, o.ns, o.name)
		if err != nil {
			t.Fatal(err)
		}
		untouched[i].version = obj.GetResourceVersion()
	}

	// Causeway's own objects get their status.
	s.mgmt.awaitObject(t, statusWithin, "GatewayClass", "", "causeway", classAccepted)
	s.mgmt.awaitObject(t, statusWithin, "Gateway", gatewayNamespace, "http", gatewayProgrammed)
	// Route both: one parent entry, Causeway's, for gateways/http. Had the
	// writer not known Gateway theirs, it would have reported it not found.
	s.mgmt.awaitObject(t, statusWithin, "HTTPRoute", gatewayNamespace, "both", onlyOurParent)
	// A new generation of both, written after every object above was seen:
	// the writer has had its chance to write on the others.
	s.mgmt.apply(t, bothRoute("/b"))
	s.mgmt.awaitObject(t, statusWithin, "HTTPRoute", gatewayNamespace, "both", onlyOurParent)

	for _, o := range untouched {
		obj, err := s.mgmt.get(o.kind, o.ns, o.name)
		if err != nil {
			t.Fatal(err)
		}
		if obj.GetResourceVersion() != o.version {
			st, _, _ := unstructured.NestedMap(obj.Object, "status")
			t.Errorf("%s %s/%s was written (resourceVersion %s → %s); status now %v", o.kind, o.ns, o.name, o.version, obj.GetResourceVersion(), st)
		}
	}
}

// classAccepted checks a GatewayClass of Causeway's: Accepted True at its
// generation, and exactly the supported features the translator lists.
func classAccepted(obj *unstructured.Unstructured) error {
	var gc gwv1.GatewayClass
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &gc); err != nil {
		return err
	}
	if err := condition(gc.Status.Conditions, string(gwv1.GatewayClassConditionStatusAccepted), metav1.ConditionTrue,
		string(gwv1.GatewayClassReasonAccepted), gc.Generation); err != nil {
		return err
	}
	if d := cmp.Diff(translator.SupportedFeatures(), gc.Status.SupportedFeatures); d != "" {
		return fmt.Errorf("supportedFeatures (-want +got):\n%s", d)
	}
	return nil
}

// onlyOurParent checks that the route's status holds one parent entry, of
// Causeway's controllerName, for gateways/http, at the route's generation.
func onlyOurParent(obj *unstructured.Unstructured) error {
	var route gwv1.HTTPRoute
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &route); err != nil {
		return err
	}
	if n := len(route.Status.Parents); n != 1 {
		return fmt.Errorf("%d parent statuses, want 1 (gateways/http): %+v", n, route.Status.Parents)
	}
	p := route.Status.Parents[0]
	if p.ParentRef.Name != "http" || p.ControllerName != model.DefaultControllerName {
		return fmt.Errorf("parent status for %s by %s, want http by %s", p.ParentRef.Name, p.ControllerName, model.DefaultControllerName)
	}
	return errors.Join(
		condition(p.Conditions, string(gwv1.RouteConditionAccepted), metav1.ConditionTrue, string(gwv1.RouteReasonAccepted), route.Generation),
		condition(p.Conditions, string(gwv1.RouteConditionResolvedRefs), metav1.ConditionTrue, string(gwv1.RouteReasonResolvedRefs), route.Generation),
	)
}
