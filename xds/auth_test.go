package xds

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
)

// Tests of the TLS server: every client is an in-process gRPC client over
// real TLS, with certificates from the harness's CA (or another one).

// issueClient issues a proxy client certificate for role/cluster from c.
func issueClient(t *testing.T, c *ca.CA, role model.Role, cluster string) tls.Certificate {
	t.Helper()
	certPEM, keyPEM, _, err := c.Issue(c.SpiffeID(string(role), cluster), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// dialTLS connects to the harness's TLS server, trusting its CA, verifying
// the server as "localhost", presenting certs (none: no client certificate).
func (h *harness) dialTLS(certs ...tls.Certificate) *grpc.ClientConn {
	h.t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(h.ca.RootPEM())
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", Certificates: certs, MinVersion: tls.VersionTLS12}
	conn, err := grpc.NewClient(h.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	return conn
}

// ended waits for a stream's responses to end, requiring none to arrive,
// and returns the error that ended it.
func ended[R interface{ GetTypeUrl() string }](t *testing.T, in <-chan R, errOf func() error) error {
	t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case r, ok := <-in:
			if !ok {
				return errOf()
			}
			t.Fatalf("refused stream got a %s response", r.GetTypeUrl())
		case <-timer.C:
			t.Fatalf("stream not ended within %v", waitFor)
		}
	}
}

// refused sends c's first request and checks that the stream ends with
// code, its message containing every one of contains.
func (c *sotwClient) refused(code codes.Code, contains ...string) {
	c.t.Helper()
	// A stream refused before its first request may already be closed:
	// Send then fails with io.EOF and Recv returns the status.
	_ = c.stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.ClusterType, Node: c.node})
	c.first = false
	checkStatus(c.t, ended(c.t, c.in, func() error { return c.err }), code, contains...)
}

func checkStatus(t *testing.T, err error, code codes.Code, contains ...string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != code {
		t.Fatalf("stream ended with %v, want code %v", err, code)
	}
	for _, s := range contains {
		if !strings.Contains(st.Message(), s) {
			t.Errorf("status message %q lacks %q", st.Message(), s)
		}
	}
}

// served fetches CDS on c and fails unless it has clusters.
func (c *sotwClient) served() {
	c.t.Helper()
	c.send(resource.ClusterType, "", "", nil, "")
	r := c.expect(resource.ClusterType)
	if len(r.GetResources()) == 0 {
		c.t.Fatal("CDS response without clusters")
	}
	c.ack(r, nil)
}

func (h *harness) authFailures(reason string) float64 {
	return h.metric("causeway_xds_auth_failures_total", map[string]string{"reason": reason})
}

func TestTLSNoCredentialIsUnauthenticated(t *testing.T) {
	h := start(t, Options{})
	conn := h.dialTLS()
	h.sotwOn(context.Background(), conn, gatewayNode("gateway-a")).refused(codes.Unauthenticated, "no client credential", "client certificate")
	d := h.deltaOn(context.Background(), conn, gatewayNode("gateway-a"))
	_ = d.stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType, Node: d.node})
	checkStatus(t, ended(t, d.in, func() error { return d.err }), codes.Unauthenticated, "no client credential")
	if v := h.authFailures(reasonNoCredential); v != 2 {
		t.Errorf("auth failures{no_credential} = %v, want 2", v)
	}
	if len(h.srv.ActiveClasses()) != 0 {
		t.Errorf("refused streams registered classes %v", h.srv.ActiveClasses())
	}
}

func TestTLSNodeClaimingAnotherIdentityIsDenied(t *testing.T) {
	h := start(t, Options{})
	conn := h.dialTLS(issueClient(t, h.ca, model.RoleGateway, "cluster-1"))
	cred := h.ca.SpiffeID("gateway", "cluster-1")
	otherCluster := node("gateway-x", model.RoleGateway, "cluster-2", model.Locality{})
	otherRole := node("eastwest-x", model.RoleEastWest, "cluster-1", model.Locality{})

	h.sotwOn(context.Background(), conn, otherCluster).refused(codes.PermissionDenied, "claims gateway/cluster-2", cred)
	h.sotwOn(context.Background(), conn, otherRole).refused(codes.PermissionDenied, "claims eastwest/cluster-1", cred)
	d := h.deltaOn(context.Background(), conn, otherCluster)
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType})
	checkStatus(t, ended(t, d.in, func() error { return d.err }), codes.PermissionDenied, "claims gateway/cluster-2", cred)

	if v := h.authFailures(reasonIdentityMismatch); v != 3 {
		t.Errorf("auth failures{identity_mismatch} = %v, want 3", v)
	}
	if len(h.srv.ActiveClasses()) != 0 {
		t.Errorf("refused streams registered classes %v", h.srv.ActiveClasses())
	}
	// The same credential for its own class is served on the same connection.
	h.sotwOn(context.Background(), conn, gatewayNode("gateway-a")).served()
}

func TestTLSCertificateFromAnotherCAFailsHandshake(t *testing.T) {
	h := start(t, Options{})
	other, err := ca.LoadOrCreate(t.TempDir(), "causeway.local") // same trust domain, another root
	if err != nil {
		t.Fatal(err)
	}
	conn := h.dialTLS(issueClient(t, other, model.RoleGateway, "cluster-1"))
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err == nil {
		// TLS 1.3: the client finishes its handshake before the server
		// checks its certificate; the server's alert ends the stream.
		_ = stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.ClusterType, Node: gatewayNode("gateway-a")})
		var r *discoveryv3.DiscoveryResponse
		r, err = stream.Recv()
		if err == nil {
			t.Fatalf("a certificate from another CA was served %s", r.GetTypeUrl())
		}
	}
	// The handshake failure surfaces as Unavailable ("bad certificate", or
	// a broken pipe when the server's alert races the client's write);
	// never as a gRPC status from the server.
	checkStatus(t, err, codes.Unavailable)
	if len(h.srv.ActiveClasses()) != 0 {
		t.Errorf("a client of another CA registered classes %v", h.srv.ActiveClasses())
	}
}

func TestTLSGoodCertificateIsServed(t *testing.T) {
	h := start(t, Options{})
	conn := h.dialTLS(issueClient(t, h.ca, model.RoleGateway, "cluster-1"))
	c := h.sotwOn(context.Background(), conn, gatewayNode("gateway-a"))
	got, want := fetchAll(t, h, c, gatewayProxy)
	diffAll(t, want, got)
	checkSecrets(t, h, got.secrets, gatewayProxy)

	d := h.deltaOn(context.Background(), conn, gatewayNode("gateway-b"))
	if cs := deltaSubscribe[*clusterv3.Cluster](d, resource.ClusterType, nil); len(cs) == 0 {
		t.Error("delta stream got no clusters")
	}

	// Later requests may repeat the node, as Envoy does, or omit it.
	e := h.sotwOn(context.Background(), conn, gatewayNode("gateway-c"))
	e.send(resource.ClusterType, "", "", nil, "")
	r := e.expect(resource.ClusterType)
	e.first = true
	e.ack(r, nil)
	e.expectNone(resource.ClusterType)
	e.first = true
	e.send(resource.ListenerType, "", "", nil, "")
	e.expect(resource.ListenerType)
	if n := h.authFailures(reasonNodeChanged) + h.authFailures(reasonIdentityMismatch); n != 0 {
		t.Errorf("%v auth failures for well-behaved clients", n)
	}
}

func TestTLSStreamMayNotSwitchNode(t *testing.T) {
	h := start(t, Options{})
	conn := h.dialTLS(issueClient(t, h.ca, model.RoleGateway, "cluster-1"))
	for name, second := range map[string]*corev3.Node{
		// Same credential, another class of the credential's own identity.
		"another locality": node("gateway-a", model.RoleGateway, "cluster-1", model.Locality{Region: "us-east", Zone: "us-east-1b"}),
		// Another role altogether.
		"another role": node("gateway-a", model.RoleEastWest, "cluster-1", gatewayProxy.Locality),
	} {
		t.Run(name, func(t *testing.T) {
			c := h.sotwOn(context.Background(), conn, gatewayNode("gateway-a"))
			c.served()
			c.node, c.first = second, true
			c.send(resource.ListenerType, "", "", nil, "")
			err := ended(t, c.in, func() error { return c.err })
			checkStatus(t, err, codes.PermissionDenied, "a stream serves one node", "gateway/cluster-1")
		})
	}
	d := h.deltaOn(context.Background(), conn, gatewayNode("gateway-d"))
	deltaSubscribe[*clusterv3.Cluster](d, resource.ClusterType, nil)
	d.first, d.node = true, node("gateway-d", model.RoleEastWest, "cluster-1", gatewayProxy.Locality)
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ListenerType})
	checkStatus(t, ended(t, d.in, func() error { return d.err }), codes.PermissionDenied, "eastwest/cluster-1")
	if v := h.authFailures(reasonNodeChanged); v != 3 {
		t.Errorf("auth failures{node_changed} = %v, want 3", v)
	}
}

func TestTLSStreamsPerIdentityAreLimited(t *testing.T) {
	h := start(t, Options{MaxStreamsPerIdentity: 2})
	conn := h.dialTLS(issueClient(t, h.ca, model.RoleGateway, "cluster-1"))
	a := h.sotwOn(context.Background(), conn, gatewayNode("gateway-a"))
	a.served()
	h.sotwOn(context.Background(), conn, gatewayNode("gateway-b")).served()
	h.sotwOn(context.Background(), conn, gatewayNode("gateway-c")).refused(codes.ResourceExhausted,
		h.ca.SpiffeID("gateway", "cluster-1"), "2 open xDS streams")
	if v := h.authFailures(reasonStreamLimit); v != 1 {
		t.Errorf("auth failures{stream_limit} = %v, want 1", v)
	}
	// Another identity has its own budget.
	other := h.dialTLS(issueClient(t, h.ca, model.RoleEastWest, "cluster-1"))
	h.sotwOn(context.Background(), other, node("eastwest-a", model.RoleEastWest, "cluster-1", model.Locality{})).served()
	// A closed stream frees its slot.
	a.close()
	eventually(t, "a freed stream slot", func() bool {
		h.srv.amu.Lock()
		defer h.srv.amu.Unlock()
		return h.srv.perIdentity[h.ca.SpiffeID("gateway", "cluster-1")] == 1
	})
	h.sotwOn(context.Background(), conn, gatewayNode("gateway-d")).served()
}

func TestInsecureServesWithoutCredentials(t *testing.T) {
	h := start(t, Options{Insecure: true})
	h.sotw(gatewayNode("gateway-a")).served()
	if !strings.Contains(h.log.String(), "PLAINTEXT") {
		t.Errorf("no warning that xDS is plaintext:\n%s", h.log.String())
	}
}

func TestMaxRecvMsgSize(t *testing.T) {
	h := start(t, Options{Insecure: true, MaxRecvMsgSize: 4096})
	c := h.sotw(gatewayNode("gateway-a"))
	c.send(resource.ClusterType, "", "", []string{strings.Repeat("x", 8192)}, "")
	checkStatus(t, ended(t, c.in, func() error { return c.err }), codes.ResourceExhausted)
	h.sotw(gatewayNode("gateway-b")).served()
}

// fakeReviewer accepts the tokens it maps, per cluster: "cluster/token" →
// username.
type fakeReviewer map[string]string

func (f fakeReviewer) Review(_ context.Context, cluster, token string) (string, error) {
	if u, ok := f[cluster+"/"+token]; ok {
		return u, nil
	}
	return "", fmt.Errorf("cluster %q: token not authenticated", cluster)
}

func bearer(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

func TestTLSServiceAccountTokens(t *testing.T) {
	h := start(t, Options{TokenReviewer: fakeReviewer{
		"cluster-1/gw":    "system:serviceaccount:causeway-system:causeway-gateway",
		"cluster-1/ew":    "system:serviceaccount:causeway-system:causeway-eastwest",
		"cluster-1/other": "system:serviceaccount:bookinfo:causeway-gateway",
	}})
	conn := h.dialTLS()
	h.sotwOn(bearer("gw"), conn, gatewayNode("gateway-a")).served()
	// The same token claiming cluster-2 is reviewed by cluster-2, which does not know it.
	h.sotwOn(bearer("gw"), conn, node("gateway-x", model.RoleGateway, "cluster-2", model.Locality{})).refused(
		codes.Unauthenticated, `claims cluster "cluster-2"`, "did not accept")
	h.sotwOn(bearer("ew"), conn, gatewayNode("gateway-y")).refused(
		codes.PermissionDenied, "claims gateway/cluster-1", "causeway-eastwest")
	h.sotwOn(bearer("other"), conn, gatewayNode("gateway-z")).refused(
		codes.PermissionDenied, "system:serviceaccount:bookinfo:causeway-gateway")
	h.sotwOn(bearer(""), conn, gatewayNode("gateway-z")).refused(codes.Unauthenticated, "Bearer <token>")
	if a, b := h.authFailures(reasonTokenRejected), h.authFailures(reasonIdentityMismatch); a != 1 || b != 2 {
		t.Errorf("auth failures token_rejected=%v identity_mismatch=%v, want 1 and 2", a, b)
	}
}

func TestTLSTokenWithoutReviewerIsUnauthenticated(t *testing.T) {
	h := start(t, Options{})
	h.sotwOn(bearer("gw"), h.dialTLS(), gatewayNode("gateway-a")).refused(codes.Unauthenticated, "token authentication is off")
}

func TestTLSServingCertificate(t *testing.T) {
	h := start(t, Options{CertTTL: 3 * time.Second, ServerNames: []string{"localhost", "xds.causeway.test"}})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(h.ca.RootPEM())
	served := func() *x509.Certificate {
		t.Helper()
		conn, err := tls.Dial("tcp", h.addr, &tls.Config{RootCAs: roots, ServerName: "xds.causeway.test", NextProtos: []string{"h2"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0]
	}
	first := served()
	if len(first.URIs) != 1 || first.URIs[0].String() != h.ca.ServerSpiffeID() {
		t.Errorf("serving certificate URIs %v, want %s", first.URIs, h.ca.ServerSpiffeID())
	}
	if len(first.IPAddresses) != 1 || first.IPAddresses[0].String() != "127.0.0.1" {
		t.Errorf("serving certificate IPs %v, want the listen address 127.0.0.1", first.IPAddresses)
	}
	if served().SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Error("serving certificate re-issued before half its lifetime")
	}
	// Renewed at half its lifetime: the next handshake gets a new one.
	time.Sleep(time.Until(first.NotAfter.Add(-time.Until(first.NotAfter) / 2)))
	eventually(t, "a renewed serving certificate", func() bool { return served().SerialNumber.Cmp(first.SerialNumber) != 0 })
}
