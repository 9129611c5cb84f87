// Package e2esec holds Causeway's security end-to-end tests against real
// Envoy: who an east-west gateway lets in (no certificate, another CA, an
// expired certificate, a Causeway certificate of a disallowed identity, and
// a gateway's as the positive control), a client proxy (issue 15) reaching
// it with its own causeway-client identity while nothing else the client
// role brings gets in, a client credential that cannot claim another role
// over xDS, and the chaos suite's rotations
// (issue 10): root rotation through the trust bundle and leaf rotation,
// each under 50 requests a second with every core busy, no request failing.
//
// It uses 127.0.51.x (cluster-1), 127.0.52.x (cluster-2) and 127.0.90.x
// (cluster-1's client proxy and misused credentials) and holds the
// machine-wide end-to-end lock (internal/e2eutil) for the whole run.
package e2esec
