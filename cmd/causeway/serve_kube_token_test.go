package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// TestServeKubeTokenAuth runs `causeway serve` in Kubernetes mode over TLS
// against real API servers and connects ADS clients that carry no client
// certificate, only "authorization: Bearer <service-account token>" minted
// with the TokenRequest API of cluster-1 or cluster-2. The control plane
// checks the token with the TokenReview API of the cluster the node claims
// and serves only the class the service account stands for.
func TestServeKubeTokenAuth(t *testing.T) {
	env := kubeenv.Start(t, "management", "cluster-1", "cluster-2")
	env.InstallCRDs(t, "management")
	ctx, cancelCtx := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelCtx()
	ensureNamespace(ctx, t, env.Cluster("management").Clientset(), "causeway-system")
	tokens := map[string]map[string]string{} // cluster → ns/sa → token
	for _, cl := range []string{"cluster-1", "cluster-2"} {
		c := env.Cluster(cl).Clientset()
		tokens[cl] = map[string]string{}
		for _, sa := range []string{"causeway-system/causeway-gateway", "causeway-system/causeway-eastwest", "causeway-system/causeway-client", "bookinfo/reviews"} {
			ns, name, _ := strings.Cut(sa, "/")
			tokens[cl][sa] = serviceAccountToken(ctx, t, c, ns, name)
		}
	}
	clusters := filepath.Join(t.TempDir(), "clusters.yaml")
	if err := os.WriteFile(clusters, []byte(fmt.Sprintf("clusters:\n- {name: cluster-1, kubeconfig: %s}\n- {name: cluster-2, kubeconfig: %s}\n",
		env.Cluster("cluster-1").KubeconfigPath, env.Cluster("cluster-2").KubeconfigPath)), 0o600); err != nil {
		t.Fatal(err)
	}

	f := &serveFlags{
		xdsAddress: freeAddr(t), metricsAddress: freeAddr(t),
		caDir: filepath.Join(t.TempDir(), "ca"), trustDomain: "causeway.local", logLevel: "info",
		xdsServerNames: []string{"localhost"}, xdsMaxStreams: 16,
		kube: kubeFlags{
			clusters: clusters, managementKubeconfig: env.Cluster("management").KubeconfigPath, namespace: "causeway-system",
			proxyNamespace: "causeway-system", syncTimeout: time.Minute,
		},
	}
	var logs lockedBuffer
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runServe(runCtx, f, &logs) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("runServe: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("runServe did not stop 20s after cancel")
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	}()
	waitHTTP(t, "http://"+f.metricsAddress+"/readyz", 45*time.Second, func(code int, body string) error {
		if code != http.StatusOK {
			return fmt.Errorf("%d %q", code, body)
		}
		return nil
	})
	conn := dialXDS(t, f.xdsAddress, filepath.Join(f.caDir, ca.RootCertFile))

	gw1 := tokens["cluster-1"]["causeway-system/causeway-gateway"]
	t.Run("gateway token of cluster-1 gets gateway/cluster-1", func(t *testing.T) {
		secret, err := fetchIdentity(ctx, conn, "Bearer "+gw1, "gateway", "cluster-1")
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		want := "spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-gateway"
		if got := certURI(t, secret); got != want {
			t.Errorf("served identity %s, want %s", got, want)
		}
	})
	refusals := []struct {
		name, auth, role, cluster string
		code                      codes.Code
		msg                       string
	}{
		// cluster-2's apiserver does not accept a token cluster-1 signed:
		// no identity is established, hence Unauthenticated.
		{"cluster-1 token claiming cluster-2", "Bearer " + gw1, "gateway", "cluster-2", codes.Unauthenticated,
			`claims cluster "cluster-2", whose apiserver did not accept the bearer token`},
		{"workload token", "Bearer " + tokens["cluster-1"]["bookinfo/reviews"], "gateway", "cluster-1", codes.PermissionDenied,
			"system:serviceaccount:bookinfo:reviews"},
		{"eastwest token claiming gateway", "Bearer " + tokens["cluster-1"]["causeway-system/causeway-eastwest"], "gateway", "cluster-1",
			codes.PermissionDenied, "system:serviceaccount:causeway-system:causeway-eastwest"},
		{"client token claiming gateway", "Bearer " + tokens["cluster-1"]["causeway-system/causeway-client"], "gateway", "cluster-1",
			codes.PermissionDenied, "system:serviceaccount:causeway-system:causeway-client"},
		{"client token claiming eastwest", "Bearer " + tokens["cluster-1"]["causeway-system/causeway-client"], "eastwest", "cluster-1",
			codes.PermissionDenied, "system:serviceaccount:causeway-system:causeway-client"},
		{"gateway token claiming client", "Bearer " + gw1, "client", "cluster-1",
			codes.PermissionDenied, "client proxies authenticate as system:serviceaccount:causeway-system:causeway-client"},
		{"garbage", "Bearer not-a-token", "gateway", "cluster-1", codes.Unauthenticated, "did not accept the bearer token"},
		{"no credential", "", "gateway", "cluster-1", codes.Unauthenticated, "no client credential"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			secret, err := fetchIdentity(ctx, conn, tc.auth, tc.role, tc.cluster)
			if err == nil {
				t.Fatalf("served %s, want %v", certURI(t, secret), tc.code)
			}
			if st := status.Convert(err); st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
				t.Errorf("refusal %v %q, want %v containing %q", st.Code(), st.Message(), tc.code, tc.msg)
			}
		})
	}
	// A client proxy with the token of causeway-client is served role
	// client with its own identity (issue 15).
	secret, err := fetchIdentity(ctx, conn, "Bearer "+tokens["cluster-1"]["causeway-system/causeway-client"], "client", "cluster-1")
	if err != nil {
		t.Fatalf("cluster-1 client token refused: %v", err)
	}
	if got, want := certURI(t, secret), "spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-client"; got != want {
		t.Errorf("served identity %s, want %s", got, want)
	}
	// The gateway of cluster-2 with its own token is served as such: the
	// cluster comes from the apiserver that accepted the token.
	secret, err = fetchIdentity(ctx, conn, "Bearer "+tokens["cluster-2"]["causeway-system/causeway-gateway"], "gateway", "cluster-2")
	if err != nil {
		t.Fatalf("cluster-2 gateway token refused: %v", err)
	}
	if got, want := certURI(t, secret), "spiffe://causeway.local/cluster/cluster-2/ns/causeway-system/sa/causeway-gateway"; got != want {
		t.Errorf("served identity %s, want %s", got, want)
	}
}

func ensureNamespace(ctx context.Context, t *testing.T, c kubernetes.Interface, ns string) {
	t.Helper()
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
}

// serviceAccountToken creates ns/name and mints a token for it with the
// TokenRequest API, as the kubelet does for a pod's projected token.
func serviceAccountToken(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, name string) string {
	t.Helper()
	ensureNamespace(ctx, t, c, ns)
	_, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create ServiceAccount %s/%s: %v", ns, name, err)
	}
	exp := int64(600)
	tr, err := c.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", ns, name, err)
	}
	return tr.Status.Token
}

// dialXDS connects to the xDS server over TLS, verifying its certificate
// (server name localhost) against the CA root, without a client certificate.
func dialXDS(t *testing.T, addr, rootFile string) *grpc.ClientConn {
	t.Helper()
	rootPEM, err := os.ReadFile(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("no certificate in %s", rootFile)
	}
	creds := credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// fetchIdentity opens an ADS stream with authorization auth (none if empty)
// as a node of role and cluster, asks for the identity secret and returns
// it, or the stream's error.
func fetchIdentity(ctx context.Context, conn *grpc.ClientConn, auth, role, cluster string) (*tlsv3.Secret, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if auth != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", auth)
	}
	stream, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{model.NodeMetaRole: role, model.NodeMetaCluster: cluster}
	switch model.Role(role) {
	case model.RoleGateway:
		fields[model.NodeMetaGateway] = model.AllGateways
	case model.RoleClient:
		fields[model.NodeMetaBindAddress] = "127.0.90.1"
	}
	md, err := structpb.NewStruct(fields)
	if err != nil {
		return nil, err
	}
	node := &corev3.Node{Id: role + "-" + cluster, Cluster: role, Metadata: md}
	if err := stream.Send(&discoverygrpc.DiscoveryRequest{Node: node, TypeUrl: resource.SecretType,
		ResourceNames: []string{translator.IdentitySecretName, translator.RootCASecretName}}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	} // io.EOF: the server ended the stream already (refused before the first request); Recv has its status
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	for _, r := range resp.GetResources() {
		s := &tlsv3.Secret{}
		if err := r.UnmarshalTo(s); err != nil {
			return nil, err
		}
		if s.GetName() == translator.IdentitySecretName {
			return s, nil
		}
	}
	return nil, fmt.Errorf("response of %d resources has no %s secret", len(resp.GetResources()), translator.IdentitySecretName)
}

// certURI is the URI SAN of the identity secret's certificate.
func certURI(t *testing.T, s *tlsv3.Secret) string {
	t.Helper()
	block, _ := pem.Decode(s.GetTlsCertificate().GetCertificateChain().GetInlineBytes())
	if block == nil {
		t.Fatalf("secret %s: no certificate PEM", s.GetName())
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(cert.URIs) != 1 {
		t.Fatalf("secret %s: %d URI SANs", s.GetName(), len(cert.URIs))
	}
	return cert.URIs[0].String()
}
