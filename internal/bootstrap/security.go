package bootstrap

import (
	"errors"
	"fmt"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/causeway-dev/causeway/internal/ca"
)

// Defaults of Security.
const (
	// DefaultXDSServerName is the name the xDS server's certificate carries
	// as a DNS SAN unless serve --xds-server-name says otherwise.
	DefaultXDSServerName = "localhost"
	// DefaultTrustDomain is serve's default --trust-domain.
	DefaultTrustDomain = "causeway.local"
)

// tlsTransportSocket is the name of Envoy's TLS transport socket.
const tlsTransportSocket = "envoy.transport_sockets.tls"

// Security is how the proxy protects its xDS connection. TLS is the
// default and needs a client credential the server can tie to the proxy's
// identity, because the server hands out private keys over that stream:
// a client certificate from Causeway's CA (CertFile, KeyFile), a
// service-account token file (TokenFile), or both. Insecure turns all of
// it off for development and excludes every other field.
//
// File paths are written into the bootstrap as they are: they are paths on
// the proxy's filesystem. Envoy reads the certificate files when it starts
// and not later, so a renewed client certificate takes effect at the
// proxy's next (hot) restart; hence its long default lifetime in
// `causeway certs issue`. The token file, in contrast, is read again on
// every (re)connect (tokenfile.go), as rotating projected tokens need.
type Security struct {
	// Insecure speaks plaintext xDS with no authentication.
	Insecure bool
	// CAFile holds the PEM roots that sign the xDS server's certificate
	// (`causeway certs issue` writes them as ca.pem). Required with TLS.
	CAFile string
	// CertFile and KeyFile are the proxy's client certificate and key.
	CertFile, KeyFile string
	// TokenFile is the path, on the proxy's filesystem, of a Kubernetes
	// service-account token (a projected token such as
	// /var/run/secrets/causeway/token), sent as `authorization: Bearer` on
	// each ADS stream. Envoy reads the file on every (re)connect, never
	// once for all and never inlined in the bootstrap, so the kubelet can
	// rotate the token under a running proxy. The file must hold the token
	// alone, without a trailing newline: Envoy sends its bytes as they are.
	TokenFile string
	// ServerName is the SNI sent to the xDS server (DefaultXDSServerName
	// if empty).
	ServerName string
	// TrustDomain is the SPIFFE trust domain of the xDS server's identity
	// (DefaultTrustDomain if empty).
	TrustDomain string
}

// ServerSpiffeID is the identity the xDS server's certificate must carry:
// the Causeway control plane's service account in trust domain td.
// It is the form ca.(*CA).ServerSpiffeID issues.
func ServerSpiffeID(td string) string {
	return "spiffe://" + td + "/ns/" + ca.ProxyNamespace + "/sa/causeway"
}

// check refuses a combination that would connect without protecting the
// keys the server sends, or that Envoy would reject at start.
func (s Security) check() error {
	if s.Insecure {
		var set []string
		for _, f := range []struct{ flag, v string }{
			{"--xds-ca", s.CAFile}, {"--xds-cert", s.CertFile}, {"--xds-key", s.KeyFile}, {"--xds-token-file", s.TokenFile},
		} {
			if f.v != "" {
				set = append(set, f.flag)
			}
		}
		if len(set) > 0 {
			return fmt.Errorf("bootstrap: --xds-insecure (plaintext xDS) excludes %s: a credential sent in plaintext is not a secret", strings.Join(set, ", "))
		}
		return nil
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		return errors.New("bootstrap: --xds-cert and --xds-key go together: a client certificate needs its key")
	}
	if s.CertFile == "" && s.TokenFile == "" {
		return errors.New("bootstrap: xDS is TLS with client authentication by default and no credential was given: " +
			"pass a client certificate (--xds-cert, --xds-key, e.g. from `causeway certs issue`) or a service-account token (--xds-token-file), " +
			"or --xds-insecure for plaintext xDS without authentication (development only)")
	}
	if s.CAFile == "" {
		return errors.New("bootstrap: --xds-ca is required with TLS: the roots that sign the xDS server's certificate (ca.pem from `causeway certs issue`)")
	}
	return nil
}

// transportSocket returns the TLS transport socket of the static xDS
// cluster, or nil for plaintext (a proxy with a TokenFile has gRPC's TLS
// instead, tokenfile.go). The server is verified by its CA and its
// SPIFFE ID; the ID, not the DNS name, is what only Causeway's control
// plane can hold.
func (s Security) transportSocket() (*corev3.TransportSocket, error) {
	if s.Insecure {
		return nil, nil
	}
	td := orDefault(s.TrustDomain, DefaultTrustDomain)
	ctx := &tlsv3.UpstreamTlsContext{
		Sni: orDefault(s.ServerName, DefaultXDSServerName),
		CommonTlsContext: &tlsv3.CommonTlsContext{
			// gRPC servers refuse TLS without ALPN h2.
			AlpnProtocols: []string{"h2"},
			ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: fileSource(s.CAFile),
				MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{
					SanType: tlsv3.SubjectAltNameMatcher_URI,
					Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: ServerSpiffeID(td)}},
				}},
			}},
		},
	}
	if s.CertFile != "" {
		ctx.CommonTlsContext.TlsCertificates = []*tlsv3.TlsCertificate{{
			CertificateChain: fileSource(s.CertFile),
			PrivateKey:       fileSource(s.KeyFile),
		}}
	}
	// ValidateAll on the bootstrap does not look inside Any payloads.
	if err := ctx.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: xDS TLS: %w", err)
	}
	a, err := anypb.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return &corev3.TransportSocket{Name: tlsTransportSocket, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: a}}, nil
}

func fileSource(path string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
}
