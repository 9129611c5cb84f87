package xds

import (
	"strings"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// httpsWorld is a Gateway with two HTTPS listeners on one port, the
// certificates of a.example.com and b.example.com given.
func httpsWorld(t *testing.T, certA, keyA, certB, keyB []byte) *model.Snapshot {
	t.Helper()
	docs := []string{`apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec: {network: network-1}`, `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}`, `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: gw}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: a, port: 8443, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: a-cert}]}}
  - {name: b, port: 8443, protocol: HTTPS, hostname: b.example.com, tls: {certificateRefs: [{name: b-cert}]}}`,
		e2eutil.TLSSecretDocument("gw", "a-cert", certA, keyA),
		e2eutil.TLSSecretDocument("gw", "b-cert", certB, keyB),
	}
	w, err := file.Parse("world.yaml", []byte(strings.Join(docs, "\n---\n")))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func selfSigned(t *testing.T, host string) ([]byte, []byte) {
	t.Helper()
	c, k, err := e2eutil.SelfSignedCert(host)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

// TestCertificateRotationChangesOnlyTheSecret: a rotated certificate
// Secret changes that one SDS secret and nothing else in the class
// snapshot, so Envoy swaps the certificate in place and keeps its
// listener (a changed listener would be drained and replaced). Both
// snapshots pass the validation every published snapshot passes.
func TestCertificateRotationChangesOnlyTheSecret(t *testing.T) {
	certA, keyA := selfSigned(t, "a.example.com")
	certB, keyB := selfSigned(t, "b.example.com")
	newA, newKeyA := selfSigned(t, "a.example.com")
	proxy := model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1"}

	build := func(w *model.Snapshot) *classSnapshot {
		t.Helper()
		res := translator.Translate(w, proxy, translator.Credentials{})
		if len(res.Diagnostics) > 0 {
			t.Fatalf("diagnostics: %v", res.Diagnostics)
		}
		snap, _, err := newSnapshot(res)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateSnapshot(snap.view()); err != nil {
			t.Fatalf("snapshot does not validate: %v", err)
		}
		return snap
	}
	before := build(httpsWorld(t, certA, keyA, certB, keyB))
	after := build(httpsWorld(t, newA, newKeyA, certB, keyB))

	for _, typ := range []string{resource.ListenerType, resource.RouteType, resource.ClusterType, resource.EndpointType} {
		if before.GetVersion(typ) != after.GetVersion(typ) {
			t.Errorf("%s changed on a certificate rotation", typ)
		}
	}
	changed := diffNames(before.set(resource.SecretType), after.set(resource.SecretType))
	want := translator.GatewayCertificateSecretName("gw", "a-cert")
	if len(changed) != 1 || changed[0] != want {
		t.Errorf("changed secrets = %v, want [%s]", changed, want)
	}
	secrets, err := after.GetResources(resource.SecretType)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := secrets[want].(*tlsv3.Secret)
	if !ok {
		t.Fatalf("secret %s missing: %v", want, secrets)
	}
	if got := s.GetTlsCertificate().GetCertificateChain().GetInlineBytes(); string(got) != string(newA) {
		t.Errorf("secret %s does not carry the new certificate", want)
	}
}
