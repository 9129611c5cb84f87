package chaos

import (
	"bytes"
	"fmt"
	"testing"
	"text/template"
)

const (
	gatewayAddress = "127.0.61.1"
	gatewayPort    = 8080 // the Gateway listener's port in the world file
	host           = "chaos.example.com"
	// loadPath is what the load generator requests; markerPath(gen) only
	// routes once the world of generation gen is in the gateway.
	loadPath = "/echo"
)

func markerPath(gen int) string { return fmt.Sprintf("/gen-%d", gen) }

// worldParams are what the scenarios change between writes of the world.
type worldParams struct {
	// Ready[i] is cluster-(i+1)'s echo endpoints' readiness.
	Ready [3]bool
	// Gen numbers the world; its marker route (markerPath) tells when a
	// world has reached the gateway.
	Gen int
}

func allReady(gen int) worldParams { return worldParams{Ready: [3]bool{true, true, true}, Gen: gen} }

// The Gateway and HTTPRoute come last, so a write cut at a document
// boundary in the middle leaves a valid world without them: the half world
// that must never be published.
var worldTemplate = template.Must(template.New("world").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(`# chaos world, generation {{.Gen}}
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec:
  network: network-1
  locality: {region: us-east, zone: us-east-1a}
  eastWestGateways: [{address: 127.0.61.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-2}
spec:
  network: network-2
  locality: {region: us-east, zone: us-east-1b}
  eastWestGateways: [{address: 127.0.62.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-3}
spec:
  network: network-3
  locality: {region: us-west, zone: us-west-1a}
  eastWestGateways: [{address: 127.0.63.100, port: 15443}]
{{- range $i, $ready := .Ready}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: echo, namespace: chaos, labels: {app: echo}}
spec:
  cluster: cluster-{{inc $i}}
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints:
  - {address: 127.0.6{{inc $i}}.10, ready: {{$ready}}}
  - {address: 127.0.6{{inc $i}}.11, ready: {{$ready}}}
{{- end}}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: echo, namespace: chaos}
spec:
  hosts: [echo.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: echo}}]
  trafficDistribution: PreferClose
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: ingress
  namespace: chaos
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, port: 8080, protocol: HTTP, hostname: chaos.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: echo, namespace: chaos}
spec:
  parentRefs: [{name: ingress}]
  hostnames: [chaos.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /echo}}]
    backendRefs: [{group: networking.causeway.dev, kind: Hostname, name: echo.mesh.internal.com, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /gen-{{.Gen}}}}]
    backendRefs: [{group: networking.causeway.dev, kind: Hostname, name: echo.mesh.internal.com, port: 9080}]
`))

func renderWorld(p worldParams) []byte {
	var buf bytes.Buffer
	if err := worldTemplate.Execute(&buf, p); err != nil {
		panic(err) // the template is a constant
	}
	return buf.Bytes()
}

// halfWorld cuts a world at the last document boundary before its middle:
// valid YAML holding the clusters and services but no Gateway or route.
func halfWorld(t *testing.T, world []byte) (first, rest []byte) {
	t.Helper()
	i := bytes.LastIndex(world[:len(world)/2], []byte("\n---\n"))
	if i < 0 {
		t.Fatal("world has no document boundary in its first half")
	}
	return world[:i+1], world[i+1:]
}

// backendSpec is one sample backend: instance name and address.
type backendSpec struct{ Cluster, Instance, Address string }

var backends = []backendSpec{
	{"cluster-1", "echo-c1-a", "127.0.61.10:9080"},
	{"cluster-1", "echo-c1-b", "127.0.61.11:9080"},
	{"cluster-2", "echo-c2-a", "127.0.62.10:9080"},
	{"cluster-2", "echo-c2-b", "127.0.62.11:9080"},
	{"cluster-3", "echo-c3-a", "127.0.63.10:9080"},
	{"cluster-3", "echo-c3-b", "127.0.63.11:9080"},
}
