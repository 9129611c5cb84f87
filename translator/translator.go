package translator

import (
	"fmt"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/causeway-dev/causeway/model"
)

// Resources is everything one proxy class receives, each list sorted by name.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret
	// Diagnostics are problems with the input, each naming the object and
	// field at fault. The resources are still valid: the faulty part is
	// replaced by something safe (a 500 direct response, a dropped endpoint).
	Diagnostics []Diagnostic

	// only, when set (LoadAssignments), limits the load assignments built
	// to those of clusters fed by these Services.
	only map[model.ServiceKey]bool
	// candidates is collectCandidates' reusable buffer.
	candidates []candidate
	// emit, when set (TranslateStreaming), takes the load assignments of
	// destinations as they are built instead of Endpoints.
	emit func(*endpointv3.ClusterLoadAssignment)
}

// addEndpoints hands cla to emit, or adds it to Endpoints.
func (r *Resources) addEndpoints(cla *endpointv3.ClusterLoadAssignment) {
	if r.emit != nil {
		r.emit(cla)
		return
	}
	r.Endpoints = append(r.Endpoints, cla)
}

// wantsEndpoints reports whether the load assignment of a cluster whose
// endpoints come from services is to be built: always, except in a
// LoadAssignments run that does not name any of them.
func (r *Resources) wantsEndpoints(services ...*model.Service) bool {
	if r.only == nil {
		return true
	}
	for _, s := range services {
		if s != nil && r.only[s.Key()] {
			return true
		}
	}
	return false
}

// Diagnostic is one problem with an input object.
type Diagnostic struct {
	// Object is "Kind namespace/name" (or "Kind name" for cluster-scoped objects).
	Object string
	// Field is the path inside the object, e.g. "spec.rules[0].backendRefs[1].port".
	Field   string
	Message string
}

func (d Diagnostic) String() string { return fmt.Sprintf("%s: %s: %s", d.Object, d.Field, d.Message) }

// Credentials are the proxy's workload certificate and the trust root, PEM
// encoded. They are input so the translator stays pure: the CA that issues
// them lives outside.
type Credentials struct {
	CertChainPEM  []byte
	PrivateKeyPEM []byte
	RootCAPEM     []byte
	// SpiffeID is the identity in the certificate's URI SAN.
	SpiffeID string
	// TrustDomain is the SPIFFE trust domain peers must belong to.
	TrustDomain string
}

// Translate builds the resources for proxy p from world w. It also leaves
// behind the endpoint fast path's index of w for p's class (see
// LoadAssignments) and the route fast path's state (see RouteUpdates),
// assembled from what the translation computed.
func Translate(w *model.Snapshot, p model.Proxy, creds Credentials) *Resources {
	return TranslateStreaming(w, p, creds, nil)
}

// TranslateStreaming is Translate, except that the load assignments of
// destinations (most of a large translation) are handed to emit, on the
// calling goroutine, as they are built, rather than collected in
// Endpoints: a consumer that encodes them at once need not hold them all.
// Endpoints then holds the rest (gateway backends, external services),
// and the two together are what Translate returns, in another order.
// emit nil is Translate.
func TranslateStreaming(w *model.Snapshot, p model.Proxy, creds Credentials, emit func(*endpointv3.ClusterLoadAssignment)) *Resources {
	r := &Resources{emit: emit}
	input := w
	w, claims, unscoped := scopeWorld(w)
	reportUnscoped(claims.ws, unscoped, r)
	switch p.Role {
	case model.RoleGateway:
		policies := buildOutbound(w, p, trustDomainOf(creds), claims, r)
		buildFederatedOutbound(w, p, trustDomainOf(creds), claims, r)
		gateway := buildGateway(w, p, claims, r)
		st := fast.structureOf(w, claims)
		rememberIndex(input, p, newFastIndex(st, p, policies, gateway))
		rememberRouteState(input, p, w != input, st.claims, gateway)
	case model.RoleEastWest:
		buildEastWest(w, p, trustDomainOf(creds), claims, r)
		rememberIndex(input, p, newFastIndex(fast.structureOf(w, claims), p, nil, nil))
	case model.RoleClient:
		policies, routes := buildClient(w, p, trustDomainOf(creds), claims, r)
		rememberIndex(input, p, newFastIndex(fast.structureOf(w, claims), p, policies, routes))
	}
	r.Secrets = append(r.Secrets, buildSecrets(creds)...)
	r.candidates, r.emit = nil, nil
	r.sort()
	return r
}

func (r *Resources) sort() {
	sort.Slice(r.Listeners, func(i, j int) bool { return r.Listeners[i].GetName() < r.Listeners[j].GetName() })
	sort.Slice(r.Routes, func(i, j int) bool { return r.Routes[i].GetName() < r.Routes[j].GetName() })
	sort.Slice(r.Clusters, func(i, j int) bool { return r.Clusters[i].GetName() < r.Clusters[j].GetName() })
	sort.Slice(r.Endpoints, func(i, j int) bool { return r.Endpoints[i].GetClusterName() < r.Endpoints[j].GetClusterName() })
	sort.Slice(r.Secrets, func(i, j int) bool { return r.Secrets[i].GetName() < r.Secrets[j].GetName() })
	sort.SliceStable(r.Diagnostics, func(i, j int) bool { return r.Diagnostics[i].String() < r.Diagnostics[j].String() })
}

func (r *Resources) report(object, field, format string, args ...any) {
	r.Diagnostics = append(r.Diagnostics, Diagnostic{Object: object, Field: field, Message: fmt.Sprintf(format, args...)})
}
