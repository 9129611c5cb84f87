package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/examples/demo"
	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/model"
)

func TestTopologyOfDemoWorld(t *testing.T) {
	w, err := file.Parse("demo", demo.World)
	if err != nil {
		t.Fatal(err)
	}
	got, err := topologyFrom(w)
	if err != nil {
		t.Fatal(err)
	}
	east := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	west := model.Locality{Region: "us-west", Zone: "us-west-1a"}
	b := func(name, addr, cluster, instance, version string) backendSpec {
		return backendSpec{Name: name, Address: addr, Info: backend.Info{Cluster: cluster, Instance: instance, Version: version}}
	}
	want := topology{
		Proxies: []proxySpec{
			{Name: "cluster-1-gateway", Role: model.RoleGateway, Cluster: "cluster-1", Locality: east, Address: "127.0.1.1", Gateway: "causeway-system/http"},
			{Name: "cluster-1-client", Role: model.RoleClient, Cluster: "cluster-1", Locality: east, Address: "127.0.1.50"},
			{Name: "cluster-1-eastwest-1", Role: model.RoleEastWest, Cluster: "cluster-1", Locality: east, Address: "127.0.1.100"},
			{Name: "cluster-1-eastwest-2", Role: model.RoleEastWest, Cluster: "cluster-1", Locality: east, Address: "127.0.1.101"},
			{Name: "cluster-2-eastwest-1", Role: model.RoleEastWest, Cluster: "cluster-2", Locality: west, Address: "127.0.2.100"},
		},
		Backends: []backendSpec{
			b("cluster-1-reviews-v1", "127.0.1.10:9080", "cluster-1", "reviews-v1", "v1"),
			b("cluster-1-reviews-v2", "127.0.1.11:9080", "cluster-1", "reviews-v2", "v2"),
			b("cluster-2-reviews-v3", "127.0.2.10:9080", "cluster-2", "reviews-v3", "v3"),
			b("cluster-2-reviews-v1", "127.0.2.11:9080", "cluster-2", "reviews-v1", "v1"),
			b("cluster-2-ratings-v1", "127.0.2.12:9080", "cluster-2", "ratings-v1", "v1"),
		},
		Listeners: []listenerSpec{{Proxy: "cluster-1-gateway", Address: "127.0.1.1:8080", Hostname: "bookinfo.example.com"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("topology (-want +got):\n%s", diff)
	}
	if got.Proxies[0].AdminAddress() != "127.0.1.1:19000" {
		t.Errorf("gateway admin address = %s", got.Proxies[0].AdminAddress())
	}
	if client, ok := got.client("cluster-1"); !ok || client.DNSAddress() != "127.0.1.50:15053" {
		t.Errorf("cluster-1 client proxy %+v (found %v), DNS at %s; want DNS at 127.0.1.50:15053", client, ok, client.DNSAddress())
	}
	host, port, ok := virtualDestinationFor(w, map[string]string{"app": "reviews"})
	if !ok || host != "reviews.mesh.internal.com" || port != 9080 {
		t.Errorf("the in-cluster client calls %s:%d (found %v), want reviews.mesh.internal.com:9080", host, port, ok)
	}
}

func TestTopologyRejectsGatewayWithoutEastWest(t *testing.T) {
	w, err := file.Parse("w", []byte(`
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: lonely}
spec: {network: net-1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, protocol: HTTP, port: 8080}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := topologyFrom(w); err == nil {
		t.Fatal("want an error: nowhere to place the gateway proxy")
	}
}

// TestTopologyOneProxyPerGateway: each Gateway a cluster serves gets its
// own gateway proxy, at .1, .2... of the cluster's /24, serving its own
// listeners only.
func TestTopologyOneProxyPerGateway(t *testing.T) {
	w, err := file.Parse("w", []byte(`
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: c1}
spec:
  network: net-1
  eastWestGateways: [{address: 127.0.9.100, port: 15443}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: a, namespace: web}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, protocol: HTTP, port: 8080, hostname: a.example.com}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: b, namespace: web}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, protocol: HTTP, port: 8080}]
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := topologyFrom(w)
	if err != nil {
		t.Fatal(err)
	}
	want := topology{
		Proxies: []proxySpec{
			{Name: "c1-gateway", Role: model.RoleGateway, Cluster: "c1", Address: "127.0.9.1", Gateway: "web/a"},
			{Name: "c1-gateway-2", Role: model.RoleGateway, Cluster: "c1", Address: "127.0.9.2", Gateway: "web/b"},
			{Name: "c1-client", Role: model.RoleClient, Cluster: "c1", Address: "127.0.9.50"},
			{Name: "c1-eastwest-1", Role: model.RoleEastWest, Cluster: "c1", Address: "127.0.9.100"},
		},
		Listeners: []listenerSpec{
			{Proxy: "c1-gateway", Address: "127.0.9.1:8080", Hostname: "a.example.com"},
			{Proxy: "c1-gateway-2", Address: "127.0.9.2:8080"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("topology (-want +got):\n%s", diff)
	}
}

// TestTopologyRejectsEndpointOnProxyAddress: an endpoint at the address
// the demo gives its client proxy (.50) would make two processes bind one
// address.
func TestTopologyRejectsEndpointOnProxyAddress(t *testing.T) {
	w, err := file.Parse("w", []byte(`
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: c1}
spec:
  network: net-1
  eastWestGateways: [{address: 127.0.9.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: app, namespace: web}
spec:
  cluster: c1
  ports: [{name: http, port: 9080}]
  endpoints: [{address: 127.0.9.50}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: a, namespace: web}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, protocol: HTTP, port: 8080}]
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = topologyFrom(w)
	if err == nil || !strings.Contains(err.Error(), "127.0.9.50:9080") || !strings.Contains(err.Error(), "c1-client") {
		t.Fatalf("topologyFrom: %v; want an error naming the endpoint and the client proxy", err)
	}
}
