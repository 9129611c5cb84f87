// Package backend is a tiny HTTP app standing in for a service instance in
// the demo and the end-to-end tests. It answers every request with JSON
// naming its cluster, instance and version and the peer address that
// connected, so a caller can tell which instance answered and through which
// proxy the request came. At WebSocketPath it accepts WebSocket
// connections and echoes every message, for upgrade tests through gateways.
//
// Its failure knobs (Knobs, set in-process on a Server or over HTTP at
// ModePath) make it answer with an error status or only after a delay, so
// tests can show outlier detection, retries and timeouts against real
// proxies.
package backend
