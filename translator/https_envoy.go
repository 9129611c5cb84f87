package translator

import (
	"cmp"
	"fmt"
	"slices"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// served reports whether a usable listener gets Envoy config: an HTTPS
// listener whose certificates do not resolve still takes routes (they
// count in its status) but is not served.
func (l gwListener) served() bool { return l.refs == nil }

// tlsChain is one filter chain of a TLS gateway listener: the SNI it
// answers ("" for any) and the certificate secrets it presents.
type tlsChain struct {
	serverName string
	secrets    []string
}

// portListener builds the Envoy listener of one gateway port from its
// served listeners: plain HTTP, or TLS with one filter chain per listener
// hostname, each presenting that listener's certificates (Envoy picks the
// chain by SNI: exact names, then wildcards, then the chain without
// server_names). The route configuration is the port's either way, so
// virtual hosts still choose by the Host header's most specific listener
// hostname. The certificates go into r.Secrets, once each.
//
// Listeners of one Gateway never mix protocols or repeat an HTTPS
// hostname on a port (listenerConflicts); listeners of several Gateways
// sharing a proxy may, and then the port keeps the first Gateway's
// protocol and the first certificate per hostname, reporting the others.
func (b *gatewayBuilder) portListener(port uint32, ls []gwListener) *listenerv3.Listener {
	if ls[0].listener.Protocol != gwv1.HTTPSProtocolType {
		for _, l := range ls[1:] {
			if l.listener.Protocol == gwv1.HTTPSProtocolType {
				b.reportShared(l, "port %d is plain HTTP for Gateway %s/%s; this HTTPS listener is not served", port, ls[0].gw.Namespace, ls[0].gw.Name)
			}
		}
		return gatewayListener(b.p.BindAddress, port)
	}
	var chains []tlsChain
	for _, l := range ls {
		if l.listener.Protocol != gwv1.HTTPSProtocolType {
			b.reportShared(l, "port %d terminates TLS for Gateway %s/%s; this HTTP listener is not served", port, ls[0].gw.Namespace, ls[0].gw.Name)
			continue
		}
		if slices.ContainsFunc(chains, func(c tlsChain) bool { return c.serverName == l.hostname }) {
			b.reportShared(l, "another Gateway's HTTPS listener on port %d has hostname %q; its certificate is used", port, cmp.Or(l.hostname, anyHost))
			continue
		}
		c := tlsChain{serverName: l.hostname}
		for _, sec := range l.certs {
			name := GatewayCertificateSecretName(sec.Namespace, sec.Name)
			c.secrets = append(c.secrets, name)
			b.addCertificate(name, sec)
		}
		chains = append(chains, c)
	}
	// A chain without server_names last, as Envoy matches it last anyway.
	last := func(c tlsChain) int {
		if c.serverName == "" {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(chains, func(x, y tlsChain) int { return cmp.Compare(last(x), last(y)) })
	return gatewayTLSListener(b.p.BindAddress, port, chains)
}

func (b *gatewayBuilder) reportShared(l gwListener, format string, args ...any) {
	b.r.report("Gateway "+l.gw.Namespace+"/"+l.gw.Name, fmt.Sprintf("spec.listeners[%d]", l.index), format, args...)
}

// addCertificate adds the certificate secret name unless present.
func (b *gatewayBuilder) addCertificate(name string, sec *model.Secret) {
	if slices.ContainsFunc(b.r.Secrets, func(s *tlsv3.Secret) bool { return s.GetName() == name }) {
		return
	}
	b.r.Secrets = append(b.r.Secrets, gatewayCertificateSecret(name, sec))
}

// gatewayCertificateSecret is a Gateway certificate as an SDS secret.
func gatewayCertificateSecret(name string, sec *model.Secret) *tlsv3.Secret {
	return &tlsv3.Secret{
		Name: name,
		Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: inlineBytes(sec.CertPEM),
			PrivateKey:       inlineBytes(sec.KeyPEM),
		}},
	}
}

// gatewayTLSListener is the listener of a port with HTTPS listeners: the
// TLS inspector reads the SNI, and each filter chain terminates TLS with
// its certificates (fetched over SDS by name, so rotating one touches
// only its secret) before the port's HTTP connection manager. Clients
// may speak HTTP/2 or HTTP/1.1 (ALPN).
func gatewayTLSListener(bind string, port uint32, chains []tlsChain) *listenerv3.Listener {
	l := gatewayListener(bind, port)
	name := l.Name
	l.ListenerFilters = []*listenerv3.ListenerFilter{{
		Name:       wellknown.TLSInspector,
		ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: gatewayAny(&tlsinspectorv3.TlsInspector{})},
	}}
	l.FilterChains = nil
	for _, c := range chains {
		var sds []*tlsv3.SdsSecretConfig
		for _, s := range c.secrets {
			sds = append(sds, sdsSecret(s))
		}
		fc := &listenerv3.FilterChain{
			Name: name + "~" + cmp.Or(c.serverName, anyHost),
			Filters: []*listenerv3.Filter{{
				Name:       wellknown.HTTPConnectionManager,
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: gatewayAny(gatewayHCM(name))},
			}},
			TransportSocket: tlsSocket(&tlsv3.DownstreamTlsContext{CommonTlsContext: &tlsv3.CommonTlsContext{
				TlsCertificateSdsSecretConfigs: sds,
				AlpnProtocols:                  []string{"h2", "http/1.1"},
			}}),
		}
		if c.serverName != "" {
			fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: []string{c.serverName}}
		}
		l.FilterChains = append(l.FilterChains, fc)
	}
	return l
}
