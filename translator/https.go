package translator

import (
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// HTTPS listeners: which certificates a listener presents, and why it
// presents none. The Envoy side (filter chains chosen by SNI, secrets over
// SDS) is in https_envoy.go; listener status in https_status.go.

// GatewayCertificateSecretName names the SDS secret that carries the
// certificate and key of the kubernetes.io/tls Secret namespace/name to
// the gateway proxies whose listeners reference it. A listener refers to
// the secret by this name only, so a rotated Secret changes the secret
// and nothing else: Envoy swaps the certificate without draining the
// listener.
func GatewayCertificateSecretName(namespace, name string) string {
	return gatewayCertificatePrefix + namespace + "~" + name
}

const gatewayCertificatePrefix = "gateway-cert~"

// IsGatewayCertificateSecret reports whether an SDS secret name is a
// Gateway certificate's (GatewayCertificateSecretName).
func IsGatewayCertificateSecret(name string) bool {
	return strings.HasPrefix(name, gatewayCertificatePrefix)
}

// refProblem says why a listener's tls.certificateRefs do not resolve:
// reason is RefNotPermitted or InvalidCertificateRef.
type refProblem struct {
	reason  gwv1.ListenerConditionReason
	message string
}

// checkListenerTLS checks an HTTPS listener's tls block for what makes the
// listener unusable altogether (as opposed to a reference that does not
// resolve): it returns the field at fault, the reason and a message, or
// ok.
func checkListenerTLS(l gwv1.Listener) (field string, reason gwv1.ListenerConditionReason, msg string, ok bool) {
	switch {
	case l.TLS == nil:
		return ".tls", listenerReasonUnsupportedValue, "an HTTPS listener needs tls (mode Terminate with certificateRefs)", false
	case l.TLS.Mode != nil && *l.TLS.Mode != gwv1.TLSModeTerminate:
		return ".tls.mode", listenerReasonUnsupportedValue,
			fmt.Sprintf("tls.mode %q is not supported for HTTPS (only Terminate; Passthrough needs a TLS listener and TLSRoutes, which Causeway does not support)", *l.TLS.Mode), false
	}
	return "", "", "", true
}

// reportTLSOptions reports tls.options, which Causeway does not read.
func reportTLSOptions(r *Resources, obj string, i int, l gwv1.Listener) {
	if len(l.TLS.Options) > 0 {
		r.report(obj, fmt.Sprintf("spec.listeners[%d].tls.options", i), "options are not supported; ignored")
	}
}

// listenerCertificates resolves the certificateRefs of HTTPS listener l of
// gw to Secrets. Any reference that does not resolve makes the listener
// unserved (rather than served with fewer certificates than asked), and
// the problem names every one: RefNotPermitted if some reference lacks a
// ReferenceGrant (the Gateway API requires that reason then), else
// InvalidCertificateRef.
func listenerCertificates(w *model.Snapshot, gw *model.Gateway, l gwv1.Listener) ([]*model.Secret, *refProblem) {
	if len(l.TLS.CertificateRefs) == 0 {
		return nil, &refProblem{gwv1.ListenerReasonInvalidCertificateRef, "tls.certificateRefs: at least one certificate is required with mode Terminate"}
	}
	var (
		certs      []*model.Secret
		msgs       []string
		notAllowed bool
	)
	for i, ref := range l.TLS.CertificateRefs {
		field := fmt.Sprintf("tls.certificateRefs[%d]", i)
		group, kind := coreGroup(refString(ref.Group)), "Secret"
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		ns := gw.Namespace
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = string(*ref.Namespace)
		}
		switch {
		case group != "" || kind != "Secret":
			msgs = append(msgs, fmt.Sprintf("%s: group %q kind %q is not supported (only core Secrets of type kubernetes.io/tls)", field, refString(ref.Group), kind))
		case !referenceAllowed(w, "Gateway", gw.Namespace, "", "Secret", ns, string(ref.Name)):
			notAllowed = true
			msgs = append(msgs, fmt.Sprintf("%s: Secret %s/%s is in another namespace and no ReferenceGrant there allows Gateways from %s to use it", field, ns, ref.Name, gw.Namespace))
		default:
			sec := w.Secret(ns, string(ref.Name))
			if sec == nil {
				msgs = append(msgs, fmt.Sprintf("%s: Secret %s/%s not found (or not of type kubernetes.io/tls)", field, ns, ref.Name))
				continue
			}
			if err := checkKeyPair(sec.CertPEM, sec.KeyPEM); err != nil {
				msgs = append(msgs, fmt.Sprintf("%s: Secret %s/%s: %v", field, ns, ref.Name, err))
				continue
			}
			certs = append(certs, sec)
		}
	}
	if len(msgs) == 0 {
		return certs, nil
	}
	reason := gwv1.ListenerReasonInvalidCertificateRef
	if notAllowed {
		reason = gwv1.ListenerReasonRefNotPermitted
	}
	return nil, &refProblem{reason, strings.Join(msgs, "; ")}
}

// checkKeyPair checks what Envoy will need of a certificate Secret: a
// chain of parseable certificates and a private key that matches the
// first (the leaf), of a type Envoy serves (RSA of 2048 bits or more,
// ECDSA P-256/P-384/P-521). Envoy would reject anything else, leaving the
// listener warming. Errors never quote the PEM.
func checkKeyPair(certPEM, keyPEM []byte) error {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "tls: "))
	}
	for i, der := range pair.Certificate {
		if _, err := x509.ParseCertificate(der); err != nil {
			return fmt.Errorf("tls.crt certificate %d does not parse: %v", i, err)
		}
	}
	if rest := trailingNonCertificate(certPEM); rest != "" {
		return fmt.Errorf("tls.crt holds a %s block; only CERTIFICATE blocks belong there", rest)
	}
	switch k := pair.PrivateKey.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("RSA key of %d bits is too short (2048 at least)", k.N.BitLen())
		}
	case *ecdsa.PrivateKey:
		if c := k.Curve; c != elliptic.P256() && c != elliptic.P384() && c != elliptic.P521() {
			return errors.New("ECDSA key on an unsupported curve (P-256, P-384 or P-521)")
		}
	default:
		return fmt.Errorf("private key of type %T is not supported (RSA or ECDSA)", pair.PrivateKey)
	}
	return nil
}

// trailingNonCertificate returns the type of the first PEM block of certPEM
// that is not a CERTIFICATE ("" if none): a key pasted into tls.crt would
// otherwise be sent as part of the chain.
func trailingNonCertificate(certPEM []byte) string {
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return ""
		}
		if b.Type != "CERTIFICATE" {
			return b.Type
		}
	}
}

// listenerConflicts finds the listeners of gw that cannot be served
// because of others on the same port (Gateway API "Conflicted"): HTTP and
// HTTPS on one port (ProtocolConflict, all of them: one Envoy listener
// either terminates TLS or does not), and HTTPS listeners on one port
// with the same hostname (HostnameConflict: SNI could not tell their
// certificates apart).
func listenerConflicts(gw *model.Gateway) map[int]gwv1.ListenerConditionReason {
	type portInfo struct {
		indexes   []int
		protocols map[gwv1.ProtocolType]bool
		hosts     map[string][]int
	}
	ports := map[gwv1.PortNumber]*portInfo{}
	for i, l := range gw.Spec.Listeners {
		if l.Protocol != gwv1.HTTPProtocolType && l.Protocol != gwv1.HTTPSProtocolType {
			continue
		}
		pi := ports[l.Port]
		if pi == nil {
			pi = &portInfo{protocols: map[gwv1.ProtocolType]bool{}, hosts: map[string][]int{}}
			ports[l.Port] = pi
		}
		pi.indexes = append(pi.indexes, i)
		pi.protocols[l.Protocol] = true
		if l.Protocol == gwv1.HTTPSProtocolType {
			h := ""
			if l.Hostname != nil && *l.Hostname != anyHost {
				h = strings.ToLower(string(*l.Hostname))
			}
			pi.hosts[h] = append(pi.hosts[h], i)
		}
	}
	out := map[int]gwv1.ListenerConditionReason{}
	for _, pi := range ports {
		if len(pi.protocols) > 1 {
			for _, i := range pi.indexes {
				out[i] = gwv1.ListenerReasonProtocolConflict
			}
			continue
		}
		for _, is := range pi.hosts {
			if len(is) > 1 {
				for _, i := range is {
					out[i] = gwv1.ListenerReasonHostnameConflict
				}
			}
		}
	}
	return out
}

// conflictMessage explains a listener conflict.
func conflictMessage(gw *model.Gateway, i int, reason gwv1.ListenerConditionReason) string {
	l := gw.Spec.Listeners[i]
	if reason == gwv1.ListenerReasonProtocolConflict {
		return fmt.Sprintf("port %d has both HTTP and HTTPS listeners in this Gateway", l.Port)
	}
	return fmt.Sprintf("another HTTPS listener on port %d has the same hostname %q (SNI cannot choose between their certificates)", l.Port, cmp.Or(refString(l.Hostname), anyHost))
}
