package translator

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

// selfSigned makes a certificate for host with key, PEM encoded.
func selfSigned(t *testing.T, host string, key any, pub any) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

func TestCheckKeyPair(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecCert, ecKey := selfSigned(t, "a.example.com", ec, &ec.PublicKey)
	rsaCert, rsaKey := selfSigned(t, "a.example.com", rsa2048, &rsa2048.PublicKey)
	shortCert, shortKey := selfSigned(t, "a.example.com", rsa1024, &rsa1024.PublicKey)
	edCert, edKeyPEM := selfSigned(t, "a.example.com", edKey, edPub)
	p224Cert, p224Key := selfSigned(t, "a.example.com", ec224, &ec224.PublicKey)
	for _, tc := range []struct {
		name      string
		cert, key []byte
		want      string // "" for valid
	}{
		{"ECDSA P-256", ecCert, ecKey, ""},
		{"RSA 2048", rsaCert, rsaKey, ""},
		{"chain of two", append(append([]byte{}, ecCert...), rsaCert...), ecKey, ""},
		{"RSA 1024", shortCert, shortKey, "RSA key of 1024 bits is too short"},
		{"Ed25519", edCert, edKeyPEM, "private key of type ed25519.PrivateKey is not supported"},
		{"P-224", p224Cert, p224Key, "ECDSA key on an unsupported curve"},
		{"key of another certificate", ecCert, rsaKey, "private key type does not match public key type"},
		{"key pasted into tls.crt", append(append([]byte{}, ecCert...), ecKey...), ecKey, "tls.crt holds a PRIVATE KEY block"},
		{"not PEM", []byte("Hello world\n"), []byte("Hello world\n"), "failed to find any PEM data in certificate input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkKeyPair(tc.cert, tc.key)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "BEGIN"):
				t.Fatalf("error quotes PEM: %v", err)
			}
		})
	}
}

// httpsTestWorld is statusWorld (clusters cluster-1 and cluster-2) with
// the given Gateway documents and a valid certificate Secret gloo-system/cert
// (as world-file text).
func httpsTestWorld(t *testing.T, gateways ...string) *model.Snapshot {
	t.Helper()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, k := selfSigned(t, "a.example.com", ec, &ec.PublicKey)
	ind := func(b []byte) string {
		return "    " + strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "\n    ")
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: cert, namespace: gloo-system}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n" +
		ind(c) + "\n  tls.key: |\n" + ind(k) + "\n"
	return parseWorld(t, append([]string{statusWorld, secret}, gateways...)...)
}

// TestGatewayCertificatesOnlyToServingProxies: a certificate reaches the
// gateway proxies of the cluster serving its Gateway, not the others.
func TestGatewayCertificatesOnlyToServingProxies(t *testing.T) {
	w := httpsTestWorld(t, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gloo-system, annotations: {causeway.dev/cluster: cluster-2}}
spec:
  gatewayClassName: causeway
  listeners: [{name: https, port: 8443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}]`)
	secretNames := func(cluster string) []string {
		var out []string
		for _, s := range Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: cluster}, Credentials{}).Secrets {
			out = append(out, s.GetName())
		}
		return out
	}
	if diff := cmp.Diff([]string{GatewayCertificateSecretName("gloo-system", "cert")}, secretNames("cluster-2")); diff != "" {
		t.Errorf("cluster-2 gateway secrets (-want +got):\n%s", diff)
	}
	if got := secretNames("cluster-1"); len(got) != 0 {
		t.Errorf("cluster-1 gateway got secrets %v; it does not serve the Gateway", got)
	}
	if got := Translate(w, model.Proxy{Role: model.RoleEastWest, Cluster: "cluster-2"}, Credentials{}).Secrets; len(got) != 0 {
		t.Errorf("east-west gateway got %d secrets", len(got))
	}
}

// TestHTTPSListenersOfSeveralGateways: Gateways sharing a proxy and a port
// cannot mix HTTP and HTTPS or give one hostname two certificates: the
// first Gateway's listener wins and the others are reported.
func TestHTTPSListenersOfSeveralGateways(t *testing.T) {
	w := httpsTestWorld(t, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: a-tls, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners: [{name: https, port: 8443, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: cert}]}}]`,
		`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: b-tls, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners: [{name: https, port: 8443, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: cert}]}}]`,
		`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: c-plain, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, port: 8443, protocol: HTTP}]`)
	res := Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1"}, Credentials{})
	var listener int
	for _, l := range res.Listeners {
		if l.GetName() == GatewayListenerName(8443) {
			listener++
			if n := len(l.GetFilterChains()); n != 1 || l.GetFilterChains()[0].GetTransportSocket() == nil {
				t.Errorf("gateway_8443 has %d filter chains, want the TLS one of a-tls", n)
			}
		}
	}
	if listener != 1 {
		t.Fatalf("%d listeners gateway_8443, want 1", listener)
	}
	var diags []string
	for _, d := range res.Diagnostics {
		diags = append(diags, d.String())
	}
	all := strings.Join(diags, "\n")
	for _, want := range []string{
		`Gateway gloo-system/b-tls: spec.listeners[0]: another Gateway's HTTPS listener on port 8443 has hostname "a.example.com"`,
		"Gateway gloo-system/c-plain: spec.listeners[0]: port 8443 terminates TLS for Gateway gloo-system/a-tls; this HTTP listener is not served",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, all)
		}
	}
}

// TestHTTPSHostnameConflict: two HTTPS listeners of one Gateway on one port
// with the same hostname conflict (SNI could not choose), and neither is
// served; a third with another hostname is.
func TestHTTPSHostnameConflict(t *testing.T) {
	w := httpsTestWorld(t, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gloo-system}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: one, port: 8443, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: cert}]}}
  - {name: two, port: 8443, protocol: HTTPS, hostname: A.example.com, tls: {certificateRefs: [{name: cert}]}}
  - {name: three, port: 8443, protocol: HTTPS, hostname: b.example.com, tls: {certificateRefs: [{name: cert}]}}`)
	var got [][]string
	for _, st := range Statuses(w).Gateways {
		if st.Name != "web" {
			continue
		}
		for _, l := range st.Listeners {
			got = append(got, condSummary(l.Conditions))
		}
	}
	conflict := []string{"Conflicted=True/HostnameConflict", "Accepted=False/PortUnavailable", "Programmed=False/Invalid", "ResolvedRefs=True/ResolvedRefs"}
	ok := []string{"Accepted=True/Accepted", "Programmed=True/Programmed", "ResolvedRefs=True/ResolvedRefs"}
	if diff := cmp.Diff([][]string{conflict, conflict, ok}, got); diff != "" {
		t.Errorf("listener conditions (-want +got):\n%s", diff)
	}
	res := Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1"}, Credentials{})
	for _, l := range res.Listeners {
		if l.GetName() != GatewayListenerName(8443) {
			continue
		}
		if fcs := l.GetFilterChains(); len(fcs) != 1 || fcs[0].GetFilterChainMatch().GetServerNames()[0] != "b.example.com" {
			t.Errorf("want the b.example.com chain only, got %v", fcs)
		}
		return
	}
	t.Error("no listener gateway_8443")
}
