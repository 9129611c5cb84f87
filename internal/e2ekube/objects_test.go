package e2ekube

import (
	"bytes"
	"text/template"
)

// The objects below follow the seed walk-through: Bookinfo's reviews
// Service in both workload clusters (v1 and v2 in cluster-1, v3 in
// cluster-2), a VirtualDestination reviews.mesh.internal.com:9080 selecting
// app: reviews, and a Gateway `http` on cluster-1 with an HTTPRoute whose
// backendRef names the VirtualDestination's host.

const (
	reviewsHost    = "reviews.mesh.internal.com"
	reviewsCluster = "outbound|9080||reviews.mesh.internal.com"

	v1Address = "198.18.1.10"
	v2Address = "198.18.1.11"
	v3Address = "198.18.2.10"
	// v3bAddress is a second v3 endpoint some steps add and remove.
	v3bAddress = "198.18.2.11"

	cluster1EastWest = "127.0.21.100:15443"
	cluster2EastWest = "127.0.22.100:15443"

	controlNamespace = "causeway-system"
	gatewayNamespace = "gateways"
)

// workloads is the state of the reviews endpoints in both clusters.
type workloads struct {
	V1Ready, V2Ready bool
	// V3b adds a second, ready v3 endpoint in cluster-2.
	V3b bool
}

var allReady = workloads{V1Ready: true, V2Ready: true}

func render(tmpl *template.Template, data any) string {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		panic(err) // the templates are constants
	}
	return buf.String()
}

// workloadNamespace is created first in each workload cluster.
const workloadNamespace = `
apiVersion: v1
kind: Namespace
metadata: {name: bookinfo}
`

// cluster1Template: both endpoints on a Node in us-east/us-east-1a, while
// the clusters file gives cluster-1 the default zone us-east-1c, so the
// locality Causeway serves can only have come from the Node.
var cluster1Template = template.Must(template.New("cluster-1").Parse(`
apiVersion: v1
kind: Node
metadata:
  name: c1-node-a
  labels: {topology.kubernetes.io/region: us-east, topology.kubernetes.io/zone: us-east-1a}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo, labels: {app: reviews, service: reviews}}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-0, namespace: bookinfo, labels: {app: reviews, version: v1}}
spec:
  nodeName: c1-node-a
  containers: [{name: reviews, image: example.invalid/reviews-v1}]
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2-0, namespace: bookinfo, labels: {app: reviews, version: v2}}
spec:
  nodeName: c1-node-a
  containers: [{name: reviews, image: example.invalid/reviews-v2}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-c1
  namespace: bookinfo
  labels: {kubernetes.io/service-name: reviews}
addressType: IPv4
ports: [{name: http, port: 9080, protocol: TCP}]
endpoints:
- addresses: [` + v1Address + `]
  conditions: {ready: {{.V1Ready}}}
  nodeName: c1-node-a
  targetRef: {kind: Pod, namespace: bookinfo, name: reviews-v1-0}
- addresses: [` + v2Address + `]
  conditions: {ready: {{.V2Ready}}}
  nodeName: c1-node-a
  targetRef: {kind: Pod, namespace: bookinfo, name: reviews-v2-0}
`))

// cluster2Template: the Node is in us-west/us-west-1b, subzone rack-7; the
// cluster's default (from its Secret) is us-west/us-west-1a.
var cluster2Template = template.Must(template.New("cluster-2").Parse(`
apiVersion: v1
kind: Node
metadata:
  name: c2-node-a
  labels: {topology.kubernetes.io/region: us-west, topology.kubernetes.io/zone: us-west-1b, topology.istio.io/subzone: rack-7}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo, labels: {app: reviews, service: reviews}}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080, targetPort: 9080}]
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v3-0, namespace: bookinfo, labels: {app: reviews, version: v3}}
spec:
  nodeName: c2-node-a
  containers: [{name: reviews, image: example.invalid/reviews-v3}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: reviews-c2
  namespace: bookinfo
  labels: {kubernetes.io/service-name: reviews}
addressType: IPv4
ports: [{name: http, port: 9080, protocol: TCP}]
endpoints:
- addresses: [` + v3Address + `]
  conditions: {ready: true}
  nodeName: c2-node-a
  targetRef: {kind: Pod, namespace: bookinfo, name: reviews-v3-0}
{{- if .V3b}}
- addresses: [` + v3bAddress + `]
  conditions: {ready: true}
  nodeName: c2-node-a
{{- end}}
`))

// managementNamespaces are created before the configuration.
const managementNamespaces = `
apiVersion: v1
kind: Namespace
metadata: {name: ` + controlNamespace + `}
---
apiVersion: v1
kind: Namespace
metadata: {name: bookinfo}
---
apiVersion: v1
kind: Namespace
metadata: {name: ` + gatewayNamespace + `}
`

// config is the state of the management cluster's configuration.
type config struct {
	PreferClose bool
}

// configTemplate: the VirtualDestination of the walk-through's step 1, the
// Gateway of its step 3 (on cluster-1) and the HTTPRoute of its step 5.
var configTemplate = template.Must(template.New("config").Parse(`
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews-vd, namespace: bookinfo}
spec:
  hosts: [` + reviewsHost + `]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: reviews}}]
{{- if .PreferClose}}
  trafficDistribution: PreferClose
{{- end}}
---
# No load balancer runs beside these clusters: provisioned Services are
# ClusterIP, so a Gateway's address is its Service's cluster IP (a
# LoadBalancer Service would leave it AddressNotAssigned).
apiVersion: networking.causeway.dev/v1alpha1
kind: GatewayParameters
metadata: {name: cluster-ip, namespace: ` + gatewayNamespace + `}
spec:
  service: {type: ClusterIP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec:
  controllerName: causeway.dev/gateway-controller
  parametersRef: {group: networking.causeway.dev, kind: GatewayParameters, name: cluster-ip, namespace: ` + gatewayNamespace + `}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: http
  namespace: ` + gatewayNamespace + `
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: ` + gatewayNamespace + `}
spec:
  parentRefs: [{name: http, namespace: ` + gatewayNamespace + `}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /reviews}}]
    backendRefs: [{group: networking.istio.io, kind: Hostname, name: ` + reviewsHost + `, port: 9080}]
`))
