// Package e2eclient holds the end-to-end tests of the client proxy role
// (issue 15): an application inside workload cluster-1, in a network
// namespace of its own, resolves VirtualDestination and federated hostnames
// through the node's client proxy (Envoy's DNS filter) and calls them
// through that proxy, with the real `causeway serve` (world mode, mTLS xDS),
// real Envoys and in-process sample backends. The package has no non-test
// code.
//
// Topology (two clusters; nothing else on the machine uses these addresses:
// the netns subnet 198.18.80.0/22 and loopback 127.0.90.x-127.0.91.x are
// issue 15's end-to-end block):
//
//	netns "client"        198.18.80.10/22: the application pod of cluster-1;
//	                      every test request and DNS query starts here (each
//	                      socket is opened on a thread switched into the
//	                      namespace, see podNet)
//	host end of the veth  198.18.80.1/22: cluster-1's node address, where the
//	                      client proxy binds: listeners client_<port> on
//	                      198.18.80.1:9080 and :9090, DNS on 198.18.80.1:15053
//	                      (UDP), admin on 198.18.80.1:19000
//	cluster-1 us-east/us-east-1a
//	  app             127.0.90.10-13:9080 (four instances, app-c1-a..d)
//	  greeter (gRPC)  127.0.90.20:9090 (grpc.health.v1 server, HTTP/2 only)
//	cluster-2 us-west/us-west-1a
//	  east-west gateway 127.0.91.100:15443 (mTLS; accepts the client identity)
//	  app             127.0.91.10-11:9080 (two replicas, app-c2-a and -b)
//
// Names the client proxy serves (Workspace "apps" holds namespace ns in
// every cluster, with federation on; the client proxy serves namespace ns):
//
//	app.global:9080     VirtualDestination ns/app over both clusters' app,
//	                    with an OutlierDetectionPolicy (which also turns
//	                    locality priority on: cluster-1 first)
//	spread.global:9080  VirtualDestination ns/spread, the same Services and
//	                    no policy: load balanced over both clusters
//	split.global:9080   VirtualDestination ns/split with an HTTPRoute whose
//	                    parentRef is the VirtualDestination: 80 to
//	                    app.ns.svc.cluster-1.global, 20 to ...cluster-2.global
//	greeter.global:9090 VirtualDestination ns/greeter, protocol GRPC
//	app.ns.svc.cluster-N.global:9080  the federated hostnames
//
// Tests (TestInClusterClient's subtests, in order, on one topology):
//
//   - ResolveAndCallLocally: app.global resolves through the proxy's DNS to
//     the proxy's address, and every one of 50 calls is answered by a
//     cluster-1 instance, connected by the client proxy itself.
//   - OutlierPolicyKeepsTrafficLocal: without a policy (spread.global) both
//     clusters answer; with it (app.global) only cluster-1 does; one
//     cluster-1 instance then answers 503, is ejected after at most
//     consecutiveErrors failures, and the other three serve every later
//     call, none going to cluster-2.
//   - FederatedHostnames: app.ns.svc.cluster-1.global is answered only by
//     cluster-1's instances, ...cluster-2.global only by cluster-2's two
//     replicas, both of them, through cluster-2's east-west gateway (which
//     balances between them).
//   - RouteSplits8020: 400 calls to split.global; cluster-2's share is
//     20% ± 7 points (about 3.5 standard deviations).
//   - UnrelatedNamesNotAnswered: names outside the proxy's table (other
//     suffixes, a longer name ending in a served one, an unknown federated
//     name) get no address, and never the proxy's.
//   - Protocols: HTTP/1.1, HTTP/2 with prior knowledge (h2c) and gRPC (the
//     grpc.health.v1 Check against greeter) through the client listeners.
//   - ClientIdentity: the certificate the client proxy presents upstream
//     names spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/
//     sa/causeway-client and nothing else (the east-west gateway accepting
//     it shows in cluster-2's answers above).
//   - FailoverThroughEastWest: 50 requests a second to app.global under CPU
//     stress; cluster-1's instances are marked not ready in the world file,
//     answers move to cluster-2 through its east-west gateway, then back;
//     not one request fails. Failover and failback times are measured
//     from the world write to the first answer from the other cluster.
//     While cluster-1 is down, app.ns.svc.cluster-1.global gets 503: a
//     federated hostname names one cluster's Service and does not fail
//     over.
//
// The figures (requests, failures, times, counts) are logged by each test
// and printed as one table at the end of a verbose run.
//
// The tests need root (network namespaces) and Envoy; they take the
// machine-wide end-to-end lock (e2eutil.Lock), skip without either unless
// CAUSEWAY_REQUIRE_E2E=1, and stop every process by PID, also on failure
// (after logging log tails; CAUSEWAY_E2E_ARTIFACTS keeps logs and config
// dumps).
package e2eclient
