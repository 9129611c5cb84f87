package xds

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// Secrets scoping: every proxy class has its own SPIFFE identity and key, and
// a class's private key must never reach a proxy of another class — over SDS
// or embedded anywhere else (an inline secret in a cluster or listener would
// leak just as well). The test connects three proxies (two gateway/cluster-1
// nodes sharing a class and one eastwest/cluster-2), walks every xDS type
// over ADS and checks the raw bytes of every response on every stream.

// scopedStream is one connected proxy and everything its stream received.
type scopedStream struct {
	label string
	node  *corev3.Node
	proxy model.Proxy
	id    string   // the SPIFFE ID the proxy must receive
	raw   [][]byte // every DiscoveryResponse, marshalled
	// secrets is the SDS response's content.
	secrets []*tlsv3.Secret
}

// fetchScoped walks CDS, EDS, LDS, RDS and SDS as Envoy does, acking each
// response and keeping its wire bytes. Names of non-wildcard types come from
// the translator's output for the proxy (they do not depend on credentials).
func fetchScoped(t *testing.T, h *harness, s *scopedStream) {
	t.Helper()
	c := h.sotw(s.node)
	shape := translator.Translate(h.store.Load(), s.proxy, translator.Credentials{})
	secretNames := []string{translator.IdentitySecretName, translator.RootCASecretName}
	for _, step := range []struct {
		typeURL string
		names   []string
	}{
		{resource.ClusterType, nil},
		{resource.EndpointType, names(shape.Endpoints)},
		{resource.ListenerType, nil},
		{resource.RouteType, names(shape.Routes)},
		{resource.SecretType, secretNames},
	} {
		c.send(step.typeURL, "", "", step.names, "")
		r := c.expect(step.typeURL)
		c.ack(r, step.names)
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		s.raw = append(s.raw, b)
		if step.typeURL == resource.SecretType {
			s.secrets = unpack[*tlsv3.Secret](t, r.GetResources())
		}
	}
	// Anything else the stream received (e.g. a push racing the walk) is
	// checked too.
	for {
		r := c.next(quietFor, "") // matches nothing: buffers every arrival in pending
		if r == nil {
			break
		}
		b, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		s.raw = append(s.raw, b)
	}
	for _, q := range c.pending {
		for _, r := range q {
			b, err := proto.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			s.raw = append(s.raw, b)
		}
	}
}

// scopeStreams are the three proxies of the test.
func scopeStreams(h *harness) []*scopedStream {
	ew := model.Proxy{Role: model.RoleEastWest, Cluster: "cluster-2",
		Locality: model.Locality{Region: "us-west", Zone: "us-west-1a"}, BindAddress: "127.0.1.1"}
	return []*scopedStream{
		{label: "gateway-a", node: gatewayNode("gateway-a"), proxy: gatewayProxy},
		{label: "gateway-b", node: gatewayNode("gateway-b"), proxy: gatewayProxy},
		{label: "eastwest", node: node("eastwest", ew.Role, ew.Cluster, ew.Locality), proxy: ew},
	}
}

// issuedKeys returns the private key the server issued for each SPIFFE ID,
// as PEM and as DER, the ground truth a leak is searched for.
func issuedKeys(t *testing.T, h *harness) map[string][][]byte {
	t.Helper()
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	out := map[string][][]byte{}
	for id, l := range h.srv.certs {
		block, _ := pem.Decode(l.keyPEM)
		if block == nil {
			t.Fatalf("issued key for %s is not PEM", id)
		}
		b64 := []byte(base64.StdEncoding.EncodeToString(block.Bytes))
		out[id] = [][]byte{l.keyPEM, block.Bytes, b64}
	}
	return out
}

// scopeProblems checks what the streams received and returns every
// violation; an empty result means secrets are scoped.
func scopeProblems(h *harness, streams []*scopedStream, keys map[string][][]byte) []string {
	var problems []string
	bad := func(f string, a ...any) { problems = append(problems, fmt.Sprintf(f, a...)) }
	root := h.ca.RootPEM()
	for _, s := range streams {
		var identity, rootCA int
		for _, sec := range s.secrets {
			switch sec.GetName() {
			case translator.IdentitySecretName:
				identity++
				tc := sec.GetTlsCertificate()
				cert, err := leafOf(tc.GetCertificateChain().GetInlineBytes())
				if err != nil {
					bad("%s: identity certificate: %v", s.label, err)
					continue
				}
				if len(cert.URIs) != 1 || cert.URIs[0].String() != s.id {
					bad("%s: identity certificate URI SANs %v, want exactly %s", s.label, cert.URIs, s.id)
				}
				if err := keyMatches(cert, tc.GetPrivateKey().GetInlineBytes()); err != nil {
					bad("%s: identity private key: %v", s.label, err)
				}
				if k := keys[s.id]; k == nil || !bytes.Equal(tc.GetPrivateKey().GetInlineBytes(), k[0]) {
					bad("%s: identity private key is not the one issued for %s", s.label, s.id)
				}
			case translator.RootCASecretName:
				rootCA++
				if !bytes.Contains(sec.GetValidationContext().GetTrustedCa().GetInlineBytes(), root) {
					bad("%s: root secret does not hold the CA root", s.label)
				}
			default:
				bad("%s: unexpected secret %q", s.label, sec.GetName())
			}
		}
		if identity != 1 || rootCA != 1 {
			bad("%s: got %d identity and %d root secrets, want exactly one each", s.label, identity, rootCA)
		}
		for id, forms := range keys {
			if id == s.id {
				continue
			}
			for i, raw := range s.raw {
				for _, k := range forms {
					if bytes.Contains(raw, k) {
						bad("%s: response %d on its stream contains the private key of %s", s.label, i, id)
						break
					}
				}
			}
		}
	}
	return problems
}

func leafOf(chainPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(chainPEM)
	if block == nil {
		return nil, fmt.Errorf("not PEM")
	}
	return x509.ParseCertificate(block.Bytes)
}

// keyMatches reports whether keyPEM is the private half of cert's key.
func keyMatches(cert *x509.Certificate, keyPEM []byte) error {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return fmt.Errorf("not PEM")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return fmt.Errorf("does not match the certificate's public key")
	}
	return nil
}

// runScope connects the streams, fetches everything and returns the
// problems found.
func runScope(t *testing.T, h *harness) []string {
	t.Helper()
	streams := scopeStreams(h)
	for _, s := range streams {
		s.id = h.ca.SpiffeID(string(s.proxy.Role), s.proxy.Cluster)
		fetchScoped(t, h, s)
	}
	keys := issuedKeys(t, h)
	if len(keys) != 2 {
		t.Fatalf("server issued keys for %d identities, want 2 (gateway/cluster-1, eastwest/cluster-2)", len(keys))
	}
	return scopeProblems(h, streams, keys)
}

func TestSecretsScopedPerClass(t *testing.T) {
	h := start(t, scopeOptions())
	for _, p := range runScope(t, h) {
		t.Error(p)
	}
}

// TestSecretsScopeCheckCatchesSharing proves the check above can fail: a
// server whose translation hands every class the first class's credentials
// (secrets shared across classes) must be reported.
func TestSecretsScopeCheckCatchesSharing(t *testing.T) {
	h := start(t, scopeOptions(), func(s *Server) {
		var first *translator.Credentials
		s.translate = func(w *model.Snapshot, p model.Proxy, c translator.Credentials, _ func(*endpointv3.ClusterLoadAssignment)) *translator.Resources {
			if first == nil { // translate runs under s.mu, never concurrently
				first = &c
			}
			return translator.Translate(w, p, *first)
		}
	})
	problems := runScope(t, h)
	if len(problems) == 0 {
		t.Fatal("the scoping check found nothing although every class was given the same credentials")
	}
	t.Logf("detected as expected:\n%v", problems)
}

// scopeOptions serve plaintext: transport security and proxy authentication
// have tests of their own; scoping is about what each class is sent.
func scopeOptions() Options { return Options{Insecure: true} }
