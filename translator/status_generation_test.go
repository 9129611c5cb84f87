package translator

import "testing"

// TestStatusesCarryGenerations: each Gateway API status says which
// generation of its object it describes, so that the status writer can
// hold it back while the live object is newer than the snapshot.
func TestStatusesCarryGenerations(t *testing.T) {
	w := parseWorld(t, `apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec: {locality: {region: us-east, zone: us-east-1a}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway, generation: 2}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: http, namespace: gloo-system, generation: 5}
spec: {gatewayClassName: causeway, listeners: [{name: http, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: bookinfo, generation: 7}
spec: {parentRefs: [{name: http, namespace: gloo-system}]}
`)
	rep := Statuses(w)
	if len(rep.GatewayClasses) != 1 || rep.GatewayClasses[0].Generation != 2 {
		t.Errorf("GatewayClass statuses %+v, want one of generation 2", rep.GatewayClasses)
	}
	if len(rep.Gateways) != 1 || rep.Gateways[0].Generation != 5 {
		t.Errorf("Gateway statuses %+v, want one of generation 5", rep.Gateways)
	}
	if len(rep.HTTPRoutes) != 1 || rep.HTTPRoutes[0].Generation != 7 {
		t.Errorf("HTTPRoute statuses %+v, want one of generation 7", rep.HTTPRoutes)
	}
}
