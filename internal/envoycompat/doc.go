// Package envoycompat checks that the Envoy versions Causeway supports
// accept what the translator sends: every golden case under
// testdata/translator becomes one bootstrap (GoldenBootstrap) that
// `envoy --mode validate` must accept (Validate).
//
// The bootstrap holds the case's resources as static config, changed only
// where static config has no place for a dynamic reference: a listener's
// RDS reference is replaced by the RouteConfiguration it names, each
// ClusterLoadAssignment is added as a STATIC copy of the cluster it feeds
// (without its transport sockets: validate mode crashes on hosts whose TLS
// secrets come over ADS), and secrets sit in static_resources.secrets. Everything else keeps its
// ADS config source, which validate mode accepts without connecting.
//
// The newest supported Envoy is $CAUSEWAY_ENVOY (the Makefile's
// ENVOY_VERSION), the oldest $CAUSEWAY_ENVOY_OLDEST (ENVOY_OLDEST_VERSION);
// the test skips a missing one, or fails under CAUSEWAY_REQUIRE_E2E=1.
package envoycompat
