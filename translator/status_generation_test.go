package translator

import "testing"

// TestStatusesCarryGenerations: each Gateway API status says which
// object, and which generation of it, it describes, so that the status writer can
// hold it back while the live object is newer than the snapshot.
func TestStatusesCarryGenerations(t *testing.T) {
	w := parseWorld(t, `apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec: {locality: {region: us-east, zone: us-east-1a}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway, generation: 2, uid: c1}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: http, namespace: gloo-system, generation: 5, uid: g1}
spec: {gatewayClassName: causeway, listeners: [{name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: bookinfo, generation: 7, uid: r1}
spec: {parentRefs: [{name: http, namespace: gloo-system}]}
`)
	rep := Statuses(w)
	if want := (ObjectVersion{UID: "c1", Generation: 2}); len(rep.GatewayClasses) != 1 || rep.GatewayClasses[0].ObjectVersion != want {
		t.Errorf("GatewayClass statuses %+v, want one of %+v", rep.GatewayClasses, want)
	}
	if want := (ObjectVersion{UID: "g1", Generation: 5}); len(rep.Gateways) != 1 || rep.Gateways[0].ObjectVersion != want {
		t.Errorf("Gateway statuses %+v, want one of %+v", rep.Gateways, want)
	}
	if want := (ObjectVersion{UID: "r1", Generation: 7}); len(rep.HTTPRoutes) != 1 || rep.HTTPRoutes[0].ObjectVersion != want {
		t.Errorf("HTTPRoute statuses %+v, want one of %+v", rep.HTTPRoutes, want)
	}
}
