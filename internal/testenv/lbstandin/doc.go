// Package lbstandin is a test-only load balancer for Services of type
// LoadBalancer, in the spirit of cloud-provider-kind: each such Service gets
// an address from a pool the test gives (loopback addresses, which Linux
// routes to lo without configuration), its status.loadBalancer.ingress is
// written, and for every TCP port of the Service a listener on address:port
// forwards each connection to one ready endpoint of the Service, round-robin.
//
// Endpoints come from the Service's EndpointSlices (label
// kubernetes.io/service-name), the port matched by name as kube-proxy does,
// an endpoint counting when its conditions.ready is true or unset. With no
// ready endpoint a connection is closed at once. Service and EndpointSlice
// changes are followed: ports added or removed open and close listeners, a
// Service that is deleted or stops being a LoadBalancer loses its listeners
// and returns its address to the pool. A Service keeps its address while it
// exists. Services naming a spec.loadBalancerClass are left to whoever
// implements that class.
//
// Start runs it until the test ends: t.Cleanup stops the watches, closes
// every listener and open connection and waits for all goroutines. Retries
// (status writes, listeners whose port is busy) are bounded; what could not
// be done is logged to t and counted in Errors.
package lbstandin
