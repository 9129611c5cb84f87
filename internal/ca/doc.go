// Package ca is Causeway's built-in certificate authority. It keeps one
// ECDSA P-256 root in a directory (created on first start, reloaded after,
// so proxies keep trusting the same root across control-plane restarts)
// and issues short-lived SPIFFE leaf certificates to proxy classes.
//
// The root's URI SAN is the trust domain (spiffe://<td>); leaves carry
// spiffe://<td>/cluster/<cluster>/ns/causeway-system/sa/causeway-<role>
// and are valid for both TLS server and client auth, because an east-west
// gateway is the server on one hop and a gateway the client on the other.
package ca
