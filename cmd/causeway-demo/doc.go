// Command causeway-demo runs the bookinfo walk-through on one machine: the
// causeway control plane, a gateway Envoy, an in-cluster client proxy Envoy
// (DNS and outbound calls for applications in the gateway's cluster),
// east-west gateway Envoys and sample backends, all as local processes on
// loopback addresses taken from the world file (examples/demo/world.yaml by
// default).
//
//	causeway-demo            start everything, then a prompt: d(own) u(p) s(end through the
//	                         gateway) c(all from an in-cluster client) q(uit)
//	causeway-demo --check    the scripted failover scenario; exit status says whether it held
//	causeway-demo compose --out DIR
//	                         write the docker-compose version of the same world
//
// Every process it starts is stopped by PID on exit, Ctrl-C or SIGTERM.
package main
