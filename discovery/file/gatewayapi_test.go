package file

import (
	"strings"
	"testing"
)

func TestParseGatewayClassAndNamespace(t *testing.T) {
	snap, err := Parse("world.yaml", []byte(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {shared-gateway: "true"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if gc := snap.GatewayClass("causeway"); gc == nil || gc.Spec.ControllerName != "causeway.dev/gateway-controller" {
		t.Fatalf("GatewayClass causeway = %+v", gc)
	}
	if ns := snap.Namespace("team-a"); ns == nil || ns.Labels["shared-gateway"] != "true" {
		t.Fatalf("Namespace team-a = %+v", ns)
	}
}

func TestParseGatewayClassAndNamespaceErrors(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"class without controller", "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: c}\nspec: {}\n",
			"document 1 (GatewayClass c): spec.controllerName: is required"},
		{"namespaced class", "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: c, namespace: x}\nspec: {controllerName: a/b}\n",
			"metadata.namespace: GatewayClass is cluster-scoped"},
		{"namespace with namespace", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, namespace: b}\n",
			"metadata.namespace: Namespace is cluster-scoped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("world.yaml", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
