package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// buildSecrets returns the proxy's identity certificate and the trust root,
// or nothing when no credentials were given.
func buildSecrets(c Credentials) []*tlsv3.Secret {
	var out []*tlsv3.Secret
	if len(c.CertChainPEM) > 0 {
		out = append(out, &tlsv3.Secret{
			Name: IdentitySecretName,
			Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
				CertificateChain: inlineBytes(c.CertChainPEM),
				PrivateKey:       inlineBytes(c.PrivateKeyPEM),
			}},
		})
	}
	if len(c.RootCAPEM) > 0 {
		out = append(out, &tlsv3.Secret{
			Name: RootCASecretName,
			Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
				TrustedCa: inlineBytes(c.RootCAPEM),
			}},
		})
	}
	return out
}

func inlineBytes(b []byte) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b}}
}
