package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"text/template"
)

// worldParams are the knobs the tests turn between rewrites of the world file.
type worldParams struct {
	// ReviewsDistribution is the reviews VirtualDestination's trafficDistribution.
	ReviewsDistribution string
	// Cluster1ReviewsReady marks cluster-1's reviews endpoints ready.
	Cluster1ReviewsReady bool
	// ReviewsOutlierDetection adds an OutlierDetectionPolicy on the reviews
	// VirtualDestination. With PreferClose already set it changes the
	// reviews cluster only: the policy turns on locality priority, which
	// PreferClose has on anyway, so the load assignment stays the same.
	ReviewsOutlierDetection bool
}

// backendSpec is one backend instance of the test world.
type backendSpec struct {
	Cluster, Service, Instance, Version, Address string
}

// backends are started once per topology; the world file lists the same
// addresses. ratings exists only in cluster-2, so every ratings request
// crosses an east-west gateway.
var backends = []backendSpec{
	{"cluster-1", "reviews-v1", "reviews-v1-a", "v1", "127.0.11.10:9080"},
	{"cluster-1", "reviews-v1", "reviews-v1-b", "v1", "127.0.11.11:9080"},
	{"cluster-2", "reviews-v2", "reviews-v2-a", "v2", "127.0.12.10:9080"},
	{"cluster-2", "reviews-v2", "reviews-v2-b", "v2", "127.0.12.11:9080"},
	{"cluster-2", "ratings", "ratings-a", "v1", "127.0.12.20:9080"},
	{"cluster-2", "ratings", "ratings-b", "v1", "127.0.12.21:9080"},
}

var worldTemplate = template.Must(template.New("world").Parse(`
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec:
  network: network-1
  locality: {region: us-east, zone: us-east-1a}
  eastWestGateways: [{address: 127.0.11.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-2}
spec:
  network: network-2
  locality: {region: us-west, zone: us-west-1a}
  eastWestGateways: [{address: 127.0.12.100, port: 15443}, {address: 127.0.12.101, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: reviews-v1, namespace: bookinfo, labels: {app: reviews, version: v1}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, targetPort: 9080, protocol: HTTP}]
  endpoints:
  - {address: 127.0.11.10, ready: {{.Cluster1ReviewsReady}}}
  - {address: 127.0.11.11, ready: {{.Cluster1ReviewsReady}}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: reviews-v2, namespace: bookinfo, labels: {app: reviews, version: v2}}
spec:
  cluster: cluster-2
  ports: [{name: http, port: 9080, targetPort: 9080, protocol: HTTP}]
  endpoints:
  - {address: 127.0.12.10}
  - {address: 127.0.12.11}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: ratings, namespace: bookinfo, labels: {app: ratings}}
spec:
  cluster: cluster-2
  ports: [{name: http, port: 9080, targetPort: 9080, protocol: HTTP}]
  endpoints:
  - {address: 127.0.12.20}
  - {address: 127.0.12.21}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP, targetPort: {name: http}}]
  services: [{labels: {app: reviews}}]
{{- if .ReviewsDistribution}}
  trafficDistribution: {{.ReviewsDistribution}}
{{- end}}
{{- if .ReviewsOutlierDetection}}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: reviews-outliers, namespace: bookinfo}
spec:
  applyToDestinations: [{selector: {name: reviews}}]
  config: {consecutiveErrors: 5, interval: 10s, baseEjectionTime: 30s}
{{- end}}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: ratings, namespace: bookinfo}
spec:
  hosts: [ratings.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: ratings}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
  namespace: bookinfo
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, port: 8080, protocol: HTTP, hostname: bookinfo.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bookinfo, namespace: bookinfo}
spec:
  parentRefs: [{name: bookinfo-gateway}]
  hostnames: [bookinfo.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /reviews}}]
    backendRefs: [{group: networking.istio.io, kind: Hostname, name: reviews.mesh.internal.com, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /ratings}}]
    backendRefs: [{group: networking.istio.io, kind: Hostname, name: ratings.mesh.internal.com, port: 9080}]
`))

func renderWorld(p worldParams) []byte {
	var buf bytes.Buffer
	if err := worldTemplate.Execute(&buf, p); err != nil {
		panic(err) // the template is a constant
	}
	return buf.Bytes()
}

// writeWorld replaces the world file with the world for p.
func writeWorld(t *testing.T, path string, p worldParams) {
	t.Helper()
	writeWorldFile(t, path, renderWorld(p))
}

// writeWorldFile replaces the world file atomically (write a sibling,
// rename), the way configuration management and Kubernetes volume updates
// do, so the control plane never reads a half-written file.
func writeWorldFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.tmp", filepath.Base(path)))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
