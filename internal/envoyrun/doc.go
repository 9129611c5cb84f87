// Package envoyrun finds, starts and stops real Envoy processes for the demo
// and the end-to-end tests.
//
// Every Envoy runs in its own process group with --use-dynamic-base-id so
// several can share a machine, writes its log to a file in its work
// directory, and is stopped by PID (SIGTERM, then SIGKILL) so nothing else
// on the machine is touched.
package envoyrun
