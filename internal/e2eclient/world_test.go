package e2eclient

import (
	"bytes"
	"net/netip"
	"text/template"
)

// Addresses and names of the topology (see doc.go).
var (
	// podSubnet is the veth's subnet; hostEnd is the node's address on it,
	// where the client proxy binds; podAddr is the application's.
	podSubnet = netip.MustParsePrefix("198.18.80.0/22")
	hostEnd   = netip.MustParsePrefix("198.18.80.1/22")
	podAddr   = netip.MustParsePrefix("198.18.80.10/22")
)

const (
	clientAddress   = "198.18.80.1" // hostEnd's address: the client proxy's bind address
	clientDNS       = clientAddress + ":15053"
	clientNamespace = "ns" // the namespace the client proxy serves
	eastWest2       = "127.0.91.100"
	appPort         = 9080
	grpcPort        = 9090

	appHost     = "app.global"
	spreadHost  = "spread.global"
	splitHost   = "split.global"
	greeterHost = "greeter.global"
	fedHost1    = "app.ns.svc.cluster-1.global"
	fedHost2    = "app.ns.svc.cluster-2.global"

	// The OutlierDetectionPolicy on app.global, as the world states it.
	outlierConsecutiveErrors = 3
	// The HTTPRoute's weights on split.global.
	splitWeight1, splitWeight2 = 80, 20
)

// backendSpec is one in-process sample backend.
type backendSpec struct{ Cluster, Instance, Address string }

// appBackends are the HTTP backends; the world lists the same addresses
// (TestWorldParses keeps the two in step).
var appBackends = []backendSpec{
	{"cluster-1", "app-c1-a", "127.0.90.10:9080"},
	{"cluster-1", "app-c1-b", "127.0.90.11:9080"},
	{"cluster-1", "app-c1-c", "127.0.90.12:9080"},
	{"cluster-1", "app-c1-d", "127.0.90.13:9080"},
	{"cluster-2", "app-c2-a", "127.0.91.10:9080"},
	{"cluster-2", "app-c2-b", "127.0.91.11:9080"},
}

// greeterAddress is the gRPC backend (cluster-1).
const greeterAddress = "127.0.90.20:9090"

// worldParams are what the tests change between writes of the world.
type worldParams struct {
	// Cluster1Ready is cluster-1's app endpoints' readiness.
	Cluster1Ready bool
}

var worldTemplate = template.Must(template.New("world").Parse(`# e2eclient world: cluster-1's client proxy serves namespace ns
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec:
  network: network-1
  locality: {region: us-east, zone: us-east-1a}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-2}
spec:
  network: network-2
  locality: {region: us-west, zone: us-west-1a}
  eastWestGateways: [{address: 127.0.91.100, port: 15443}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: Workspace
metadata: {name: apps}
spec:
  workloadClusters: [{name: "*", namespaces: [{name: ns}]}]
  federation: {enabled: true}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: app, namespace: ns, labels: {app: app}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints:
  - {address: 127.0.90.10, ready: {{.Cluster1Ready}}}
  - {address: 127.0.90.11, ready: {{.Cluster1Ready}}}
  - {address: 127.0.90.12, ready: {{.Cluster1Ready}}}
  - {address: 127.0.90.13, ready: {{.Cluster1Ready}}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: app, namespace: ns, labels: {app: app}}
spec:
  cluster: cluster-2
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.91.10}, {address: 127.0.91.11}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: greeter, namespace: ns, labels: {app: greeter}}
spec:
  cluster: cluster-1
  ports: [{name: grpc, port: 9090, protocol: GRPC}]
  endpoints: [{address: 127.0.90.20}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: app, namespace: ns, labels: {outliers: "true"}}
spec:
  hosts: [app.global]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: app}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: app-outliers, namespace: ns}
spec:
  applyToDestinations: [{selector: {labels: {outliers: "true"}}}]
  config: {consecutiveErrors: 3, interval: 1s, baseEjectionTime: 30s}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: spread, namespace: ns}
spec:
  hosts: [spread.global]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: app}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: split, namespace: ns}
spec:
  hosts: [split.global]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: app}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: split, namespace: ns}
spec:
  parentRefs: [{group: networking.causeway.dev, kind: VirtualDestination, name: split}]
  rules:
  - backendRefs:
    - {group: networking.causeway.dev, kind: Hostname, name: app.ns.svc.cluster-1.global, port: 9080, weight: 80}
    - {group: networking.causeway.dev, kind: Hostname, name: app.ns.svc.cluster-2.global, port: 9080, weight: 20}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: greeter, namespace: ns}
spec:
  hosts: [greeter.global]
  ports: [{number: 9090, protocol: GRPC}]
  services: [{labels: {app: greeter}}]
`))

func renderWorld(p worldParams) []byte {
	var buf bytes.Buffer
	if err := worldTemplate.Execute(&buf, p); err != nil {
		panic(err) // the template is a constant
	}
	return buf.Bytes()
}
