package e2e

import (
	"bytes"
	"text/template"
)

// The traffic-policy world (TestTrafficPolicies): three clusters in three
// regions, one gateway proxy in cluster-1 and an east-west gateway each in
// cluster-2 and cluster-3. Each policy under test gets a destination of its
// own, so the subtests do not disturb each other:
//
//	reviews   v1 and v2 in every cluster; subsets v1/v2, no locality priority
//	details   one instance per cluster; OutlierDetectionPolicy (3 errors, 1s, 3s)
//	products  two instances in cluster-1, one each in cluster-2 and -3;
//	          FailoverPolicy from us-east to eu-west (cluster-3)
//	ratings   three instances in cluster-1; route retries 503 twice
//	slow      one instance in cluster-1; route timeout 500ms
//	split-a/b one instance each; route splits 80/20
//	owner     owner.mesh.internal.com claimed by two VirtualDestinations:
//	          bookinfo/owner (first in the file) and bookinfo/aaa-usurper
//	          (later in the file, first by name), which loses the conflict.
//
// Addresses: cluster-N is 127.0.3N.x (gateway proxy 127.0.31.1:8080,
// east-west gateways 127.0.32.100 and 127.0.33.100), distinct from
// TestMultiCluster's 127.0.11.x/127.0.12.x and from the demo's 127.0.N.x.

const (
	policyGatewayAddress = "127.0.31.1"
	policyHost           = "policy.example.com"
	policyEastWest2      = "127.0.32.100"
	policyEastWest3      = "127.0.33.100"

	// The OutlierDetectionPolicy on details, as the world file states it.
	outlierConsecutiveErrors = 3
	outlierIntervalSeconds   = 1
	outlierBaseEjectionSecs  = 3
	// The route's retry attempts on /ratings and request timeout on /slow.
	ratingsRetryAttempts = 2
	slowTimeoutMillis    = 500
	// The route's weights on /split.
	splitWeightA, splitWeightB = 80, 20
)

var policyProxies = []proxySpec{
	{"policy-gateway-cluster-1", "gateway", "cluster-1", "us-east", "us-east-1a", policyGatewayAddress, "bookinfo/policy-gateway"},
	{"policy-eastwest-cluster-2", "eastwest", "cluster-2", "us-west", "us-west-1a", policyEastWest2, ""},
	{"policy-eastwest-cluster-3", "eastwest", "cluster-3", "eu-west", "eu-west-1a", policyEastWest3, ""},
}

// policyBackends are started once per topology; the world file lists the
// same addresses (TestPolicyWorldFileParses keeps the two in step).
var policyBackends = []backendSpec{
	{"cluster-1", "reviews", "reviews-c1-v1", "v1", "127.0.31.10:9080"},
	{"cluster-1", "reviews", "reviews-c1-v2", "v2", "127.0.31.11:9080"},
	{"cluster-2", "reviews", "reviews-c2-v1", "v1", "127.0.32.10:9080"},
	{"cluster-2", "reviews", "reviews-c2-v2", "v2", "127.0.32.11:9080"},
	{"cluster-3", "reviews", "reviews-c3-v1", "v1", "127.0.33.10:9080"},
	{"cluster-3", "reviews", "reviews-c3-v2", "v2", "127.0.33.11:9080"},
	{"cluster-1", "details", "details-c1", "v1", "127.0.31.20:9080"},
	{"cluster-2", "details", "details-c2", "v1", "127.0.32.20:9080"},
	{"cluster-3", "details", "details-c3", "v1", "127.0.33.20:9080"},
	{"cluster-1", "products", "products-c1-a", "v1", "127.0.31.30:9080"},
	{"cluster-1", "products", "products-c1-b", "v1", "127.0.31.31:9080"},
	{"cluster-2", "products", "products-c2", "v1", "127.0.32.30:9080"},
	{"cluster-3", "products", "products-c3", "v1", "127.0.33.30:9080"},
	{"cluster-1", "ratings", "ratings-a", "v1", "127.0.31.40:9080"},
	{"cluster-1", "ratings", "ratings-b", "v1", "127.0.31.41:9080"},
	{"cluster-1", "ratings", "ratings-c", "v1", "127.0.31.42:9080"},
	{"cluster-1", "slow", "slow", "v1", "127.0.31.50:9080"},
	{"cluster-1", "split-a", "split-a", "v1", "127.0.31.60:9080"},
	{"cluster-1", "split-b", "split-b", "v1", "127.0.31.61:9080"},
	{"cluster-1", "owner-old", "owner-old", "v1", "127.0.31.70:9080"},
	{"cluster-1", "owner-new", "owner-new", "v1", "127.0.31.71:9080"},
}

// policyParams are the knobs the policy tests turn between rewrites.
type policyParams struct {
	// Cluster1ProductsReady marks cluster-1's products endpoints ready.
	Cluster1ProductsReady bool
	// Conflict adds bookinfo/aaa-usurper, the newer claim on owner.mesh.internal.com:9080.
	Conflict bool
}

var policyTemplate = template.Must(template.New("policy-world").Parse(`
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
  eastWestGateways: [{address: 127.0.32.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-3}
spec:
  network: network-3
  locality: {region: eu-west, zone: eu-west-1a}
  eastWestGateways: [{address: 127.0.33.100, port: 15443}]
{{- range $c := .Clusters}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: reviews, namespace: bookinfo, labels: {app: reviews}}
spec:
  cluster: cluster-{{$c}}
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints:
  - {address: 127.0.3{{$c}}.10, labels: {version: v1}}
  - {address: 127.0.3{{$c}}.11, labels: {version: v2}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: details, namespace: bookinfo, labels: {app: details}}
spec:
  cluster: cluster-{{$c}}
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.3{{$c}}.20}]
{{- end}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: products, namespace: bookinfo, labels: {app: products}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints:
  - {address: 127.0.31.30, ready: {{.Cluster1ProductsReady}}}
  - {address: 127.0.31.31, ready: {{.Cluster1ProductsReady}}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: products, namespace: bookinfo, labels: {app: products}}
spec:
  cluster: cluster-2
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.32.30}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: products, namespace: bookinfo, labels: {app: products}}
spec:
  cluster: cluster-3
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.33.30}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: ratings, namespace: bookinfo, labels: {app: ratings}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.31.40}, {address: 127.0.31.41}, {address: 127.0.31.42}]
{{- range $s := .Singles}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: {{$s.Name}}, namespace: bookinfo, labels: {app: {{$s.Name}}}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: {{$s.Address}}}]
{{- end}}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: reviews}}]
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: details, namespace: bookinfo, labels: {outliers: "true"}}
spec:
  hosts: [details.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: details}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: details-outliers, namespace: bookinfo}
spec:
  applyToDestinations: [{selector: {labels: {outliers: "true"}}}]
  config:
    consecutiveErrors: {{.OutlierConsecutiveErrors}}
    interval: {{.OutlierInterval}}s
    baseEjectionTime: {{.OutlierBaseEjection}}s
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: products, namespace: bookinfo, labels: {failover: "true"}}
spec:
  hosts: [products.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: products}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: {name: us-east-to-eu-west, namespace: bookinfo}
spec:
  applyToDestinations: [{selector: {labels: {failover: "true"}}}]
  config:
    localityMappings:
    - from: {region: us-east}
      to: [{region: eu-west}]
{{- range $s := .Destinations}}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: {{$s}}, namespace: bookinfo}
spec:
  hosts: [{{$s}}.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: {{$s}}}}]
{{- end}}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: owner, namespace: bookinfo}
spec:
  hosts: [owner.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: owner-old}}]
{{- if .Conflict}}
---
# Newer than bookinfo/owner by document order (no creationTimestamps), but
# first by name: the conflict must be decided by age, not by name.
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: aaa-usurper, namespace: bookinfo}
spec:
  hosts: [owner.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: owner-new}}]
{{- end}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: policy-gateway
  namespace: bookinfo
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, port: 8080, protocol: HTTP, hostname: policy.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: policies, namespace: bookinfo}
spec:
  parentRefs: [{name: policy-gateway}]
  hostnames: [policy.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /reviews-v1}}]
    backendRefs:
    - group: networking.causeway.dev
      kind: Hostname
      name: reviews.mesh.internal.com
      port: 9080
      filters:
      - type: ExtensionRef
        extensionRef: {group: networking.causeway.dev, kind: Subset, name: v1}
  - matches: [{path: {type: PathPrefix, value: /details}}]
    backendRefs: [{group: networking.causeway.dev, kind: Hostname, name: details.mesh.internal.com, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /products}}]
    backendRefs: [{group: networking.causeway.dev, kind: Hostname, name: products.mesh.internal.com, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /split}}]
    backendRefs:
    - {group: networking.causeway.dev, kind: Hostname, name: split-a.mesh.internal.com, port: 9080, weight: {{.SplitWeightA}}}
    - {group: networking.causeway.dev, kind: Hostname, name: split-b.mesh.internal.com, port: 9080, weight: {{.SplitWeightB}}}
  - matches: [{path: {type: PathPrefix, value: /ratings}}]
    retry: {codes: [503], attempts: {{.RatingsRetryAttempts}}}
    backendRefs: [{group: networking.causeway.dev, kind: Hostname, name: ratings.mesh.internal.com, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /slow}}]
    timeouts: {request: {{.SlowTimeoutMillis}}ms}
    backendRefs: [{group: networking.causeway.dev, kind: Hostname, name: slow.mesh.internal.com, port: 9080}]
  - matches: [{path: {type: PathPrefix, value: /owner}}]
    backendRefs: [{group: networking.causeway.dev, kind: Hostname, name: owner.mesh.internal.com, port: 9080}]
`))

// single is a one-instance Service in cluster-1.
type single struct{ Name, Address string }

// renderPolicyWorld renders the world for p; the constants above fill in
// the policy numbers, so the tests' expectations and the file cannot drift.
func renderPolicyWorld(p policyParams) []byte {
	data := struct {
		policyParams
		Clusters                                                       []int
		Singles                                                        []single
		Destinations                                                   []string
		OutlierConsecutiveErrors, OutlierInterval, OutlierBaseEjection int
		RatingsRetryAttempts, SlowTimeoutMillis                        int
		SplitWeightA, SplitWeightB                                     int
	}{
		policyParams: p,
		Clusters:     []int{1, 2, 3},
		Singles: []single{
			{"slow", "127.0.31.50"}, {"split-a", "127.0.31.60"}, {"split-b", "127.0.31.61"},
			{"owner-old", "127.0.31.70"}, {"owner-new", "127.0.31.71"},
		},
		Destinations:             []string{"ratings", "slow", "split-a", "split-b"},
		OutlierConsecutiveErrors: outlierConsecutiveErrors,
		OutlierInterval:          outlierIntervalSeconds,
		OutlierBaseEjection:      outlierBaseEjectionSecs,
		RatingsRetryAttempts:     ratingsRetryAttempts,
		SlowTimeoutMillis:        slowTimeoutMillis,
		SplitWeightA:             splitWeightA,
		SplitWeightB:             splitWeightB,
	}
	var buf bytes.Buffer
	if err := policyTemplate.Execute(&buf, data); err != nil {
		panic(err) // the template is a constant
	}
	return buf.Bytes()
}
