package e2e

// The WebSocket and CORS topology, on 127.0.67.x: a gateway proxy in
// cluster-1, an east-west gateway in cluster-2, one echo backend in each
// cluster. Both echo Services say appProtocol kubernetes.io/ws; the remote
// one is reached through a VirtualDestination, so its upgrades cross the
// east-west gateway.
const (
	wsGatewayAddress = "127.0.67.1"
	wsGatewayPort    = 8080
	wsLocalHost      = "ws-local.example.com"
	wsRemoteHost     = "ws-remote.example.com"
	wsTimeoutHost    = "ws-timeout.example.com" // a route with timeouts.request 2s
	corsHost         = "cors.example.com"
	corsOrigin       = "https://app.example"
)

var wsProxies = []proxySpec{
	{"gateway-ws-cluster-1", "gateway", "cluster-1", "us-east", "us-east-1a", wsGatewayAddress, "web/web"},
	{"eastwest-ws-cluster-2", "eastwest", "cluster-2", "us-west", "us-west-1a", "127.0.67.100", ""},
}

var wsBackends = []backendSpec{
	{"cluster-1", "echo", "echo-c1", "v1", "127.0.67.10:9080"},
	{"cluster-2", "echo-remote", "echo-c2", "v1", "127.0.67.20:9080"},
}

const wsWorld = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
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
  eastWestGateways: [{address: 127.0.67.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: echo, namespace: web, labels: {app: echo}}
spec:
  cluster: cluster-1
  ports: [{name: ws, port: 9080, appProtocol: kubernetes.io/ws}]
  endpoints: [{address: 127.0.67.10}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: echo-remote, namespace: web, labels: {app: echo-remote}}
spec:
  cluster: cluster-2
  ports: [{name: ws, port: 9080, appProtocol: kubernetes.io/ws}]
  endpoints: [{address: 127.0.67.20}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: echo-remote, namespace: web}
spec:
  hosts: [echo-remote.mesh.internal]
  ports: [{number: 9080, protocol: HTTP, targetPort: {name: ws}}]
  services: [{labels: {app: echo-remote}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: web
  namespace: web
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, port: 8080, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ws-local, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [ws-local.example.com]
  rules:
  - backendRefs: [{name: echo, port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ws-timeout, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [ws-timeout.example.com]
  rules:
  - backendRefs: [{name: echo, port: 9080}]
    timeouts: {request: 2s}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ws-remote, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [ws-remote.example.com]
  rules:
  - backendRefs: [{group: networking.causeway.dev, kind: VirtualDestination, name: echo-remote, port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cors, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [cors.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    filters:
    - type: CORS
      cors:
        allowOrigins: [https://app.example, "https://*.trusted.example"]
        allowMethods: [GET, PUT]
        allowHeaders: [X-Custom]
        exposeHeaders: [X-Served-By]
        allowCredentials: true
        maxAge: 600
    backendRefs: [{name: echo, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /open}}]
    backendRefs: [{name: echo, port: 9080}]
`
