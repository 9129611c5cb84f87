// Package e2e holds Causeway's end-to-end tests: the real `causeway` binary,
// real Envoy processes and in-process backends on loopback addresses, with
// traffic sent through them. The package has no non-test code.
//
// Layout (chosen not to collide with a running demo, which uses 127.0.N.x):
// cluster-1 is 127.0.11.x (gateway proxy 127.0.11.1:8080, east-west gateway
// 127.0.11.100:15443, backends 127.0.11.1x:9080), cluster-2 is 127.0.12.x
// (east-west gateways 127.0.12.100 and .101, backends 127.0.12.1x/2x:9080).
// TestTrafficPolicies (issue 4's policies) has its own three clusters,
// 127.0.31.x to 127.0.33.x (gateway proxy 127.0.31.1:8080, east-west
// gateways 127.0.32.100 and 127.0.33.100, backends 127.0.3N.x:9080); its
// backends fail or stall on demand through their knobs (internal/backend).
// The reconnect tests (a serve outage, a replica killed) use 127.0.41.x:
// replicas on 127.0.41.1 and .2, the gateway proxy on 127.0.41.10.
// TestGatewayHTTPS (HTTPS termination) uses 127.0.66.x: the gateway proxy
// on 127.0.66.1 (HTTPS 8443, HTTP 8080), backends 127.0.66.10 and .11:9080.
// TestH2CBackend (HTTP/2 with prior knowledge to kubernetes.io/h2c Service
// ports) uses 127.0.78.x: the gateway proxy on 127.0.78.1:8080, an h2c-only
// backend on 127.0.78.10:3001, an HTTP/1.1 backend on 127.0.78.20:9080.
// TestProxyStatus (causeway proxy-status) uses 127.0.82.x: serve's admin
// endpoint on 127.0.82.1:9092, the gateway proxy on 127.0.82.1:8080 (and
// 8081, held by the test so a listener there is NACKed), an east-west
// gateway on 127.0.82.100, a backend on 127.0.82.10:9080.
//
// Envoy is found like everywhere else (CAUSEWAY_ENVOY or <repo>/.venv/bin/envoy);
// without it the tests skip, unless CAUSEWAY_REQUIRE_E2E=1.
package e2e
