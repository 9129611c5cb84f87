package e2ekube

import (
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The namespace-selector scenario: Gateway gateways/selected takes routes
// only from namespaces labelled selectorLabel=true; the route team-a/web
// attaches while its namespace carries the label.
const (
	selectorNamespace = "team-a"
	selectorLabel     = "causeway-e2e/expose"
)

// selectorNamespaceYAML is team-a with or without the label. Server-side
// apply owns the label, so applying it without removes it.
func selectorNamespaceYAML(labelled bool) string {
	labels := "{}"
	if labelled {
		labels = "{" + selectorLabel + ": \"true\"}"
	}
	return fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: %s}\n", selectorNamespace, labels)
}

// selectorObjects: the Gateway (on cluster-1, a port of its own) and the
// route.
const selectorObjects = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: selected
  namespace: ` + gatewayNamespace + `
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners:
  - name: http
    protocol: HTTP
    port: 8085
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {` + selectorLabel + `: "true"}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: ` + selectorNamespace + `}
spec:
  parentRefs: [{name: selected, namespace: ` + gatewayNamespace + `}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /team-a}}]
    backendRefs: [{group: networking.istio.io, kind: Hostname, name: ` + reviewsHost + `, port: 9080}]
`

// selectedParent checks team-a/web's status for Gateway gateways/selected:
// Accepted with reason.
func selectedParent(accepted metav1.ConditionStatus, reason gwv1.RouteConditionReason) func(*unstructured.Unstructured) error {
	return func(obj *unstructured.Unstructured) error {
		var route gwv1.HTTPRoute
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &route); err != nil {
			return err
		}
		for _, p := range route.Status.Parents {
			if p.ParentRef.Name == "selected" && p.ParentRef.Namespace != nil && *p.ParentRef.Namespace == gatewayNamespace {
				return condition(p.Conditions, string(gwv1.RouteConditionAccepted), accepted, string(reason), route.Generation)
			}
		}
		return fmt.Errorf("no parent status for Gateway %s/selected: %+v", gatewayNamespace, route.Status.Parents)
	}
}

// selectedAttached checks the Gateway's listener: accepted, with n routes.
func selectedAttached(n int32) func(*unstructured.Unstructured) error {
	return func(obj *unstructured.Unstructured) error {
		var gw gwv1.Gateway
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &gw); err != nil {
			return err
		}
		if len(gw.Status.Listeners) != 1 {
			return fmt.Errorf("%d listener statuses, want 1", len(gw.Status.Listeners))
		}
		l := gw.Status.Listeners[0]
		err := condition(l.Conditions, string(gwv1.ListenerConditionAccepted), metav1.ConditionTrue, string(gwv1.ListenerReasonAccepted), gw.Generation)
		if l.AttachedRoutes != n {
			err = errors.Join(err, fmt.Errorf("attachedRoutes %d, want %d", l.AttachedRoutes, n))
		}
		return err
	}
}

// testNamespaceSelector: a route in a namespace the listener's selector
// does not match is NotAllowedByListeners; labelling the Namespace attaches
// it, removing the label detaches it again, each without a restart.
func (s *suite) testNamespaceSelector(t *testing.T) {
	s.mgmt.apply(t, selectorNamespaceYAML(false))
	s.mgmt.apply(t, selectorObjects)
	t.Cleanup(func() {
		s.mgmt.remove(t, selectorObjects)
		s.mgmt.apply(t, selectorNamespaceYAML(false))
	})

	s.mgmt.awaitObject(t, statusWithin, "HTTPRoute", selectorNamespace, "web", selectedParent(metav1.ConditionFalse, gwv1.RouteReasonNotAllowedByListeners))
	s.mgmt.awaitObject(t, statusWithin, "Gateway", gatewayNamespace, "selected", selectedAttached(0))

	start := time.Now()
	s.mgmt.apply(t, selectorNamespaceYAML(true))
	s.mgmt.awaitObject(t, statusWithin, "HTTPRoute", selectorNamespace, "web", selectedParent(metav1.ConditionTrue, gwv1.RouteReasonAccepted))
	t.Logf("label added: route Accepted %v later", time.Since(start).Round(time.Millisecond))
	s.mgmt.awaitObject(t, statusWithin, "Gateway", gatewayNamespace, "selected", selectedAttached(1))

	start = time.Now()
	s.mgmt.apply(t, selectorNamespaceYAML(false))
	s.mgmt.awaitObject(t, statusWithin, "HTTPRoute", selectorNamespace, "web", selectedParent(metav1.ConditionFalse, gwv1.RouteReasonNotAllowedByListeners))
	t.Logf("label removed: route NotAllowedByListeners %v later", time.Since(start).Round(time.Millisecond))
	s.mgmt.awaitObject(t, statusWithin, "Gateway", gatewayNamespace, "selected", selectedAttached(0))
}
