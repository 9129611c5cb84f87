package xds

import (
	"context"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/codes"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

var clientProxy = model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", BindAddress: "127.0.1.1", DNSPort: model.DefaultDNSPort}

func clientNode(id, cluster string) *corev3.Node {
	return node(id, model.RoleClient, cluster, model.Locality{})
}

// TestTLSClientCredential: a client proxy's certificate is served as role
// client in its own cluster, with its own identity over SDS, and may claim
// nothing else: not another role (a gateway's or east-west gateway's
// configuration and keys), not another cluster.
func TestTLSClientCredential(t *testing.T) {
	h := start(t, Options{})
	conn := h.dialTLS(issueClient(t, h.ca, model.RoleClient, "cluster-1"))
	cred := h.ca.SpiffeID("client", "cluster-1")
	for _, tc := range []struct {
		node  *corev3.Node
		claim string
	}{
		{gatewayNode("gateway-x"), "claims gateway/cluster-1"},
		{node("eastwest-x", model.RoleEastWest, "cluster-1", model.Locality{}), "claims eastwest/cluster-1"},
		{clientNode("client-x", "cluster-2"), "claims client/cluster-2"},
	} {
		h.sotwOn(context.Background(), conn, tc.node).refused(codes.PermissionDenied, tc.claim, cred)
	}
	if v := h.authFailures(reasonIdentityMismatch); v != 3 {
		t.Errorf("auth failures{identity_mismatch} = %v, want 3", v)
	}

	c := h.sotwOn(context.Background(), conn, clientNode("client-a", "cluster-1"))
	names := []string{translator.IdentitySecretName, translator.RootCASecretName}
	c.send(resource.SecretType, "", "", names, "")
	r := c.expect(resource.SecretType)
	checkSecrets(t, h, unpack[*tlsv3.Secret](t, r.GetResources()), clientProxy)

	// A gateway's certificate does not make a client proxy either.
	gw := h.dialTLS(issueClient(t, h.ca, model.RoleGateway, "cluster-1"))
	h.sotwOn(context.Background(), gw, clientNode("client-b", "cluster-1")).refused(codes.PermissionDenied, "claims client/cluster-1")
}

// TestTLSClientServiceAccountToken: in Kubernetes mode role client is the
// token of causeway-client in the proxy namespace, of the cluster the node
// claims; that token claims no other role, and no other account's token
// claims role client.
func TestTLSClientServiceAccountToken(t *testing.T) {
	h := start(t, Options{TokenReviewer: fakeReviewer{
		"cluster-1/client":       "system:serviceaccount:causeway-system:causeway-client",
		"cluster-1/gw":           "system:serviceaccount:causeway-system:causeway-gateway",
		"cluster-1/other-client": "system:serviceaccount:bookinfo:causeway-client",
	}})
	conn := h.dialTLS()
	c := h.sotwOn(bearer("client"), conn, clientNode("client-a", "cluster-1"))
	c.send(resource.SecretType, "", "", []string{translator.IdentitySecretName, translator.RootCASecretName}, "")
	checkSecrets(t, h, unpack[*tlsv3.Secret](t, c.expect(resource.SecretType).GetResources()), clientProxy)

	h.sotwOn(bearer("client"), conn, gatewayNode("gateway-x")).refused(codes.PermissionDenied, "claims gateway/cluster-1", "causeway-system:causeway-client")
	h.sotwOn(bearer("client"), conn, clientNode("client-x", "cluster-2")).refused(codes.Unauthenticated, `claims cluster "cluster-2"`)
	h.sotwOn(bearer("gw"), conn, clientNode("client-y", "cluster-1")).refused(codes.PermissionDenied,
		"claims client/cluster-1", "system:serviceaccount:causeway-system:causeway-client")
	h.sotwOn(bearer("other-client"), conn, clientNode("client-z", "cluster-1")).refused(codes.PermissionDenied, "system:serviceaccount:bookinfo:causeway-client")
	if a, b := h.authFailures(reasonTokenRejected), h.authFailures(reasonIdentityMismatch); a != 1 || b != 3 {
		t.Errorf("auth failures token_rejected=%v identity_mismatch=%v, want 1 and 3", a, b)
	}
}
