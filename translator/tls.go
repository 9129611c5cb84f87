package translator

import (
	"regexp"
	"sync"
	"sync/atomic"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// DefaultTrustDomain is used when the credentials name none.
const DefaultTrustDomain = "causeway.local"

const (
	// tlsTransportSocketName is Envoy's typed extension name for TLS.
	tlsTransportSocketName = "envoy.transport_sockets.tls"
	// transportSocketMatchFilter is the endpoint metadata filter Envoy reads
	// transport_socket_matches against.
	transportSocketMatchFilter = "envoy.transport_socket_match"
	// mtlsMatchValue is the TLSMatchKey value that selects mTLS.
	mtlsMatchValue = "mtls"
	// mtlsMatchName names the transport socket match (used in stats).
	mtlsMatchName = "causeway-mtls"
)

func trustDomainOf(c Credentials) string {
	if c.TrustDomain == "" {
		return DefaultTrustDomain
	}
	return c.TrustDomain
}

// mtlsMatch is the match both the cluster's transport_socket_matches entry
// and an east-west gateway endpoint's metadata carry.
func mtlsMatch() *structpb.Struct {
	return &structpb.Struct{Fields: map[string]*structpb.Value{TLSMatchKey: structpb.NewStringValue(mtlsMatchValue)}}
}

// sdsSecret refers to a secret delivered over the ADS stream.
func sdsSecret(name string) *tlsv3.SdsSecretConfig {
	return &tlsv3.SdsSecretConfig{Name: name, SdsConfig: viaADS()}
}

// meshTLSContext presents the proxy's identity and accepts only peers whose
// certificate chains to the trust roots and whose URI SAN matches peer.
func meshTLSContext(peer *matcherv3.StringMatcher) *tlsv3.CommonTlsContext {
	return &tlsv3.CommonTlsContext{
		TlsCertificateSdsSecretConfigs: []*tlsv3.SdsSecretConfig{sdsSecret(IdentitySecretName)},
		ValidationContextType: &tlsv3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext: &tlsv3.CertificateValidationContext{
					MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
						SanType: tlsv3.SubjectAltNameMatcher_URI,
						Matcher: peer,
					}},
				},
				ValidationContextSdsSecretConfig: sdsSecret(RootCASecretName),
			},
		},
	}
}

// trustDomainPeer matches any identity of the trust domain: what a gateway
// accepts from the east-west gateway it connects to.
func trustDomainPeer(trustDomain string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "spiffe://" + trustDomain + "/"}}
}

// gatewayPeer matches exactly the ingress gateways and the client proxies
// of the trust domain, in any cluster. An east-west gateway forwards into
// its cluster whatever a peer asks for by SNI, so a certificate that merely
// chains to the root (a workload's, or another east-west gateway's) must
// not be enough: only the proxies whose traffic is meant to cross clusters
// may.
func gatewayPeer(trustDomain string) *matcherv3.StringMatcher {
	return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{
		Regex: "^spiffe://" + regexp.QuoteMeta(trustDomain) + "/cluster/[^/]+/ns/causeway-system/sa/causeway-(gateway|client)$",
	}}}
}

// upstreamMTLS is the transport socket a gateway uses towards a remote
// east-west gateway; sni tells that gateway which destination is meant.
func upstreamMTLS(sni, trustDomain string) *corev3.TransportSocket {
	return tlsSocket(&tlsv3.UpstreamTlsContext{CommonTlsContext: upstreamCommon(trustDomain), Sni: sni})
}

// upstreamCommons caches, per trust domain, the common TLS context of every
// upstream mTLS socket. It is only ever marshalled into the socket's Any
// (never part of an output message), so sharing it is safe.
var upstreamCommons sync.Map // string → *tlsv3.CommonTlsContext

// maxCachedTrustDomains bounds upstreamCommons (one is usual).
const maxCachedTrustDomains = 8

var upstreamCommonsLen atomic.Int32

func upstreamCommon(trustDomain string) *tlsv3.CommonTlsContext {
	if c, ok := upstreamCommons.Load(trustDomain); ok {
		return c.(*tlsv3.CommonTlsContext)
	}
	c := meshTLSContext(trustDomainPeer(trustDomain))
	if upstreamCommonsLen.Load() < maxCachedTrustDomains {
		if _, loaded := upstreamCommons.LoadOrStore(trustDomain, c); !loaded {
			upstreamCommonsLen.Add(1)
		}
	}
	return c
}

// downstreamMTLS is the transport socket of an east-west gateway filter
// chain: a client certificate is required and must be a gateway's or a
// client proxy's.
func downstreamMTLS(trustDomain string) *corev3.TransportSocket {
	return tlsSocket(&tlsv3.DownstreamTlsContext{
		CommonTlsContext:         meshTLSContext(gatewayPeer(trustDomain)),
		RequireClientCertificate: wrapperspb.Bool(true),
	})
}

func tlsSocket(ctx proto.Message) *corev3.TransportSocket {
	return &corev3.TransportSocket{
		Name:       tlsTransportSocketName,
		ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: typedAny(ctx)},
	}
}
