// Package e2esec holds Causeway's security end-to-end tests against real
// Envoy: who an east-west gateway lets in (no certificate, another CA, an
// expired certificate, a Causeway certificate of a disallowed identity, and
// a gateway's as the positive control), root rotation through the trust
// bundle, and leaf rotation under steady traffic.
//
// It uses 127.0.51.x (cluster-1) and 127.0.52.x (cluster-2) and holds the
// machine-wide end-to-end lock (internal/e2eutil) for the whole run.
package e2esec
