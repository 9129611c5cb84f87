// Package chaos holds Causeway's chaos tests (issue 10): a three-cluster
// world-mode mesh with the real `causeway serve`, real Envoys and real
// sample backends carries 50 requests a second while both cores are kept
// busy (e2eutil.StartCPUStress) and something goes wrong on purpose. Every
// scenario asserts that not one request failed:
//
//   - TestChaos/FailoverChain: cluster-1's endpoints turn not ready
//     (traffic moves to cluster-2), then cluster-2's (to cluster-3), then
//     they come back in reverse order, three times; failover and failback
//     times are measured from the world-file write to the first request
//     (by send time) answered by the new cluster and to the start of a
//     streak of 25 answers from it.
//   - TestChaos/FailoverPausedProxy: the chain's two risky changes (c2→c3
//     and back) with one proxy starved of CPU altogether, SIGSTOP for a
//     second around the world write: the ingress gateway (which must not
//     send to cluster-2's east-west gateway after it dropped its endpoints)
//     and cluster-2's east-west gateway (which must have its endpoints
//     before the ingress gateway sends there). This makes the ordering race
//     of issue 10 deterministic instead of a matter of luck.
//   - TestChaos/WorldFile/<method>: every way of replacing the world file
//     (overwrite, truncate then write 0.3 s later, a write paused halfway,
//     atomic rename, a ConfigMap-style symlink swap, an empty file then the
//     good one); each valid result must take effect.
//   - TestChaos/ServeKillRestart: `serve` gets SIGKILL and is started again
//     with the same --ca-dir and world; the Envoys reconnect (admin stat
//     control_plane.connected_state) and receive a later world change.
//   - TestChaosReplicaKilled: two `serve` replicas, proxies bootstrapped
//     with both (`causeway bootstrap --xds-address A --xds-address B`); the
//     replica the proxies use gets SIGKILL and they move to the other.
//
// Each test logs its figures (requests, failures, times) as a table, and
// TestMain prints all of them at the end of a verbose run.
//
// Layout, chosen not to collide with the demo (127.0.N.x), internal/e2e
// (127.0.1N.x, 127.0.3N.x), internal/e2ekube (127.0.2N.x), internal/e2esec
// (127.0.5N.x) and cmd/causeway-demo's test (127.0.4N.x): cluster-N is 127.0.6N.x,
// the control plane 127.0.60.x.
//
//	serve replicas      127.0.60.1:18000 and 127.0.60.2:18000 (xDS),
//	                    metrics on port 9091 of the same addresses
//	cluster-1 us-east/us-east-1a  ingress gateway 127.0.61.1:8080,
//	                    east-west gateway 127.0.61.100:15443, backends 127.0.61.10-11:9080
//	cluster-2 us-east/us-east-1b  east-west gateway 127.0.62.100:15443, backends 127.0.62.10-11
//	cluster-3 us-west/us-west-1a  east-west gateway 127.0.63.100:15443, backends 127.0.63.10-11
//
// The VirtualDestination uses PreferClose, so from the cluster-1 gateway the
// priorities are cluster-1 (same zone), cluster-2 (same region), cluster-3:
// the failover chain c1 → c2 → c3.
//
// The tests take the machine-wide end-to-end lock (e2eutil.LockT), skip
// without Envoy unless CAUSEWAY_REQUIRE_E2E=1, stop every process by PID
// (also on failure) and dump logs, and with CAUSEWAY_E2E_ARTIFACTS config
// dumps, on failure. The package has no non-test code.
package chaos
