// Package e2eutil holds the helpers Causeway's end-to-end test packages
// (internal/e2e, internal/e2ekube) share, so the two cannot drift apart:
// subprocesses started and stopped by PID, bounded polling, the
// machine-wide lock for fixed loopback addresses, skip-or-fail under
// CAUSEWAY_REQUIRE_E2E, building the repository's commands once per test
// binary, loopback HTTP helpers, log tails and artifact copies; and for
// the chaos tests (internal/chaos) bounded CPU stress (StartCPUStress) and
// a rate-limited loopback load generator (StartLoad).
//
// Every child it starts carries Pdeathsig=SIGKILL: a test binary killed
// without running its cleanups (a -timeout panic, a closed terminal) takes
// its children with it instead of leaving them holding addresses and ports
// that the next run needs.
//
// It is a test-support package: only _test.go files should import it.
package e2eutil
