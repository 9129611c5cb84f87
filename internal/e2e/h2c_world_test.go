package e2e

// The h2c topology, on 127.0.78.x: one gateway proxy in cluster-1, an
// h2c-only backend behind a Service port saying appProtocol
// kubernetes.io/h2c (port 8081 to target port 3001, as the conformance
// suite's infra-backend-v1 does), and a plain HTTP/1.1 backend.
const (
	h2cGatewayAddress = "127.0.78.1"
	h2cGatewayPort    = 8080
	h2cBackendAddress = "127.0.78.10:3001"
	h2cHost           = "h2c.example.com"
	h2cPlainHost      = "plain.example.com"
)

var h2cProxies = []proxySpec{
	{"gateway-h2c-cluster-1", "gateway", "cluster-1", "us-east", "us-east-1a", h2cGatewayAddress, "web/web"},
}

var h2cBackends = []backendSpec{
	{"cluster-1", "plain", "plain-c1", "v1", "127.0.78.20:9080"},
}

const h2cWorld = `
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
kind: Service
metadata: {name: echo-h2c, namespace: web}
spec:
  cluster: cluster-1
  ports: [{name: h2c, port: 8081, targetPort: 3001, appProtocol: kubernetes.io/h2c}]
  endpoints: [{address: 127.0.78.10}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: plain, namespace: web}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080}]
  endpoints: [{address: 127.0.78.20}]
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
metadata: {name: h2c, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [h2c.example.com]
  rules:
  - backendRefs: [{name: echo-h2c, port: 8081}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: plain, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [plain.example.com]
  rules:
  - backendRefs: [{name: plain, port: 9080}]
`
