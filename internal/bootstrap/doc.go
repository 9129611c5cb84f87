// Package bootstrap writes the Envoy bootstrap a Causeway proxy starts
// with: its identity (node id, locality, metadata Causeway reads back with
// model.ProxyFromNode), an admin listener, and ADS over HTTP/2 to the
// Causeway xDS server for everything else: delta by default, state of the
// world on request (Options.Protocol).
//
// The xDS connection is TLS by default, verifying the server by CA and
// SPIFFE ID and authenticating the proxy with a client certificate or a
// service-account token (Security); plaintext needs an explicit opt-in.
// Certificates are referenced by file path, never fetched over SDS: the
// xDS cluster is static and has to work before ADS does. A service-account
// token is referenced by path too (Security.TokenFile, e.g. a projected
// token in a provisioned pod), and Envoy re-reads it on every reconnect
// through its Google gRPC client (tokenfile.go), so a rotated token needs no
// new bootstrap.
package bootstrap
