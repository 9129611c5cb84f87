package translator

import (
	"cmp"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/features"
)

// supportedFeatures are the Gateway API features (pkg/features of the
// gateway-api module in go.mod) Causeway implements, as its GatewayClasses
// announce them in status.supportedFeatures. Each names the code and a test
// that prove it. Only features that work go here: the conformance suite
// runs the tests of every feature listed and expects them to pass.
var supportedFeatures = []features.FeatureName{
	// Core.
	features.SupportGateway,        // attach.go checkListeners, status_gateway.go; golden gateway-*, status_test.go, internal/e2e
	features.SupportHTTPRoute,      // routes.go, gateway.go attachRoutes; golden gateway-*, route-*, internal/e2e
	features.SupportReferenceGrant, // referencegrant.go; golden cross-namespace-with(out)-referencegrant, referencegrant_test.go

	// Extended, Gateway.
	features.SupportGatewayPort8080, // checkListeners takes any port 1-65535; golden route-redirect (listener on 8080)
	// The listener with the most specific matching hostname takes the request, and
	// only its routes serve it: gateway.go virtualHosts; golden gateway-hostnames-intersection.
	features.SupportGatewayHTTPListenerIsolation,

	// Extended, HTTPRoute.
	features.SupportHTTPRouteQueryParamMatching,               // routes.go translateMatch; golden route-query-params
	features.SupportHTTPRouteMethodMatching,                   // golden route-method-match
	features.SupportHTTPRouteResponseHeaderModification,       // filters.go; golden route-response-header-modifier
	features.SupportHTTPRouteBackendRequestHeaderModification, // per-backendRef filters; golden route-backend-header-modifier
	features.SupportHTTPRoutePortRedirect,                     // filters.go compileRedirect; golden route-redirect, filters_test.go TestCompileRedirect
	features.SupportHTTPRouteSchemeRedirect,                   // golden route-redirect
	features.SupportHTTPRoutePathRedirect,                     // filters_path.go; golden route-redirect, route-redirect-prefix
	features.SupportHTTPRouteHostRewrite,                      // golden route-url-rewrite-full-path
	features.SupportHTTPRoutePathRewrite,                      // golden route-url-rewrite-full-path, route-url-rewrite-prefix
	features.SupportHTTPRouteRequestMirror,                    // filters_mirror.go; golden route-mirror
	features.SupportHTTPRouteRequestMultipleMirrors,           // several request_mirror_policies per rule; golden route-mirror
	features.SupportHTTPRouteRequestPercentageMirror,          // percent / fraction; golden route-mirror, TestMirrorFraction
	features.SupportHTTPRouteRequestTimeout,                   // golden route-timeouts
	features.SupportHTTPRouteBackendTimeout,                   // golden route-timeouts
	features.SupportHTTPRouteParentRefPort,                    // attach.go attachParent (parentRef port); golden gateway-hostnames-intersection
	// Rule names: served like unnamed rules, named in the Envoy route names,
	// a repeated name reported: routes.go envoyRouteName, reportDuplicateRuleNames;
	// golden route-named-rule.
	features.SupportHTTPRouteNamedRouteRule,
	// Redirect status codes beyond 301/302: filters_path.go redirectCodes;
	// golden route-redirect (303, 308), filters_test.go TestCompileRedirect (303, 307, 308).
	features.SupportHTTPRoute303RedirectStatusCode,
	features.SupportHTTPRoute307RedirectStatusCode,
	features.SupportHTTPRoute308RedirectStatusCode,

	// added by issue 11 (wscors): Upgrade to Services whose port says kubernetes.io/ws.
	features.SupportHTTPRouteBackendProtocolWebSocket,
	// added by issue 11 (wscors): the CORS filter as Envoy's CORS policy.
	features.SupportHTTPRouteCORS,
	// HTTP/2 with prior knowledge to Service ports whose appProtocol says
	// kubernetes.io/h2c (appprotocol.go servicePortHTTP2, cluster.go useHTTP2);
	// gateway listeners take h2c from clients too (the connection manager's
	// codec detects it). Golden websocket-app-protocol-service; internal/e2e
	// TestH2CBackend (an h2c-only backend, HTTP/1.1 and h2c clients).
	features.SupportHTTPRouteBackendProtocolH2C,
	// HTTPS listeners (added by issue 11, https) are part of core Gateway
	// support; they have no feature name of their own.
}

// SupportedFeatures returns the features of supportedFeatures sorted by
// name, as GatewayClass status.supportedFeatures wants them.
func SupportedFeatures() []gwv1.SupportedFeature {
	out := make([]gwv1.SupportedFeature, 0, len(supportedFeatures))
	for _, f := range supportedFeatures {
		out = append(out, gwv1.SupportedFeature{Name: gwv1.FeatureName(f)})
	}
	slices.SortFunc(out, func(a, b gwv1.SupportedFeature) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
