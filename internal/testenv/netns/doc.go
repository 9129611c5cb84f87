// Package netns gives a test its own network "hosts": Linux network
// namespaces joined to the machine by a veth pair, with addresses the test
// chooses from 198.18.0.0/15 (the benchmarking range, never routed on the
// internet). Processes started with Exec run inside the namespace (through
// `ip netns exec`), so they listen on those addresses, and the test reaches
// them from the host through the veth. Kubernetes EndpointSlices reject
// loopback addresses; these are the addresses real traffic can go to.
//
// Create adds the namespace, the veth pair, the addresses and brings the
// links and lo up; nothing else (no default route, no NAT, no forwarding).
// Every namespace address must lie in the host address's subnet, so the
// host's connected route reaches them.
//
// RouteLoopbackBack additionally lets connections from the root
// namespace's loopback addresses in and their answers out, for a proxy
// (Envoy) that binds its upstream connections to a 127.0.0.0/8 address.
//
// Subnets must be unique machine-wide while in use, also across test
// packages that `go test` runs at the same time; Create fails when a host
// interface already holds an address in the chosen subnet. Allocation:
//
//	198.18.1.0/24, 198.18.2.0/24   seed walk-through (cluster-1, cluster-2)
//	198.18.80.0/22                  internal/e2eclient (cluster-1's application pod)
//	198.19.254.0/24                 this package's own tests
//
// Cleanup, registered by Create, kills the namespace's processes by PID,
// deletes the veth pair and the namespace. Names carry the creating
// process's PID, so a later run removes what a killed run (say, a -timeout
// panic, which skips cleanups) left behind.
//
// Everything needs root. Without it, or where `ip netns add` or veth
// creation fails (an unprivileged container), Create skips the test saying
// why, or fails it when CAUSEWAY_REQUIRE_E2E=1.
package netns
