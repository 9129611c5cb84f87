package e2ekube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// Fixed addresses of the token rotation test (block 127.0.68.x, under the
// e2e lock): serve keeps its xDS address across its restart, so the proxy
// reconnects to the same place.
const (
	tokenXDSAddr     = "127.0.68.1:18000"
	tokenMetricsAddr = "127.0.68.1:18001"
	tokenEnvoyAdmin  = "127.0.68.2:19000"
	tokenEnvoyBind   = "127.0.68.2"
)

// TestProxyTokenRotation: a gateway Envoy authenticated by a projected
// service-account token file keeps getting in after the kubelet rotated
// the token and the old one stopped being valid. The token is a real
// TokenRequest token of cluster-1, bound to a Secret so deleting the
// Secret revokes it; serve checks it with cluster-1's TokenReview API.
//
// Envoy connects with token A; the file is swapped to token B the way the
// kubelet does (a new timestamped directory, ..data renamed over); A's
// Secret is deleted and A is shown refused; serve is restarted, which
// breaks the ADS stream. The proxy must be accepted again, which it can
// only be with B, read from the file on the reconnect.
func TestProxyTokenRotation(t *testing.T) {
	envoyBin := e2eutil.RequireEnvoy(t)
	env := kubeEnv.Env(t)
	env.InstallCRDs(t, "management") // serve is ready once its informers synced
	e2eutil.LockT(t, 4*time.Minute)
	begin := time.Now()
	defer func() { t.Logf("token rotation scenario took %v", time.Since(begin).Round(time.Millisecond)) }()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()

	c1 := env.Cluster("cluster-1").Clientset()
	tokenA := boundGatewayToken(ctx, t, c1, "token-rotation-a")
	tokenB := boundGatewayToken(ctx, t, c1, "token-rotation-b")
	tokenDir := filepath.Join(dir, "tokens")
	tokenFile := filepath.Join(tokenDir, "token")
	kubeletWriteToken(t, tokenDir, "a", tokenA)

	forgetCARoot(t, env.Cluster("management").Clientset(), controlNamespace)
	cp := startTokenServe(t, dir, env.Cluster("management").KubeconfigPath, env.Cluster("cluster-1").KubeconfigPath, "1")
	t.Logf("serve ready %v into the scenario", time.Since(begin).Round(time.Millisecond))
	caFile := filepath.Join(cp.caDir, ca.RootCertFile)
	out, err := exec.Command(causewayBin, "bootstrap", "--role", "gateway", "--cluster", "cluster-1", "--all-gateways",
		"--bind-address", tokenEnvoyBind, "--xds-address", tokenXDSAddr, "--admin-address", tokenEnvoyAdmin,
		"--xds-ca", caFile, "--xds-token-file", tokenFile).Output()
	if err != nil {
		t.Fatalf("causeway bootstrap: %v\n%s", err, exitStderr(err))
	}
	if strings.Contains(string(out), tokenA) {
		t.Fatalf("the bootstrap inlines the token:\n%s", out)
	}
	envoy, err := envoyrun.Start(envoyrun.Options{Binary: envoyBin, Bootstrap: out, AdminAddress: tokenEnvoyAdmin, Dir: dir, Name: "gateway-token"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- Envoy log tail:\n%s", e2eutil.Indent(envoy.LogTail(30)))
		}
		_ = envoy.Stop()
	})
	stats := awaitTokenProxy(t, cp, envoy, "with token A", 0)

	// The kubelet rotates the token; then A stops being valid.
	kubeletWriteToken(t, tokenDir, "b", tokenB)
	deleteSecret(ctx, t, c1, controlNamespace, "token-rotation-a")
	revoked := time.Now()
	if err := e2eutil.Eventually(30*time.Second, 200*time.Millisecond, func() error {
		code := adsWithToken(ctx, t, caFile, tokenA)
		if code != codes.Unauthenticated {
			return fmt.Errorf("token A: %v, want %v", code, codes.Unauthenticated)
		}
		return nil
	}); err != nil {
		t.Fatalf("token A still accepted after its Secret was deleted: %v", err)
	}
	t.Logf("token A refused %v after its Secret was deleted", time.Since(revoked).Round(time.Millisecond))
	if code := adsWithToken(ctx, t, caFile, tokenB); code != codes.OK {
		t.Fatalf("token B refused (%v) by a client of the test", code)
	}

	// Break the stream: serve goes away and comes back on the same address.
	if err := cp.proc.Stop(); err != nil {
		t.Fatalf("stop causeway serve: %v", err)
	}
	e2eutil.CopyToArtifacts(t, cp.proc.LogPath, "causeway-1.log")
	restart := time.Now()
	cp = startTokenServe(t, dir, env.Cluster("management").KubeconfigPath, env.Cluster("cluster-1").KubeconfigPath, "2")
	t.Logf("serve stopped and ready again in %v", time.Since(restart).Round(time.Millisecond))
	stats = awaitTokenProxy(t, cp, envoy, "after the rotation and serve's restart", stats[cdsUpdates])
	if v, ok := stats[adsUnauthenticated]; !ok || v != 0 {
		t.Errorf("envoy %s = %d (present: %v), want 0: a stream presented a token the server did not accept", adsUnauthenticated, v, ok)
	}
	// The proxy presented no stale token to the new serve (absent means 0).
	for _, reason := range []string{"token_rejected", "bad_credential", "no_credential"} {
		if f, err := cp.metric(`causeway_xds_auth_failures_total{reason="` + reason + `"}`); err == nil && f != 0 {
			t.Errorf("the restarted serve refused %v streams (%s): the proxy presented a stale or no token", f, reason)
		}
	}
}

// startTokenServe starts `causeway serve` in kube mode on the fixed
// addresses with cluster-1 from a clusters file, its CA in dir/ca (kept
// across restarts, so the proxy keeps trusting it), logging to
// dir/causeway-<n>.log.
func startTokenServe(t *testing.T, dir, managementKubeconfig, cluster1Kubeconfig, n string) *controlPlane {
	t.Helper()
	cp := &controlPlane{dir: dir, xdsAddr: tokenXDSAddr, metricsAddr: tokenMetricsAddr, caDir: filepath.Join(dir, "ca")}
	clustersPath := filepath.Join(dir, "clusters.yaml")
	clusters := fmt.Sprintf("clusters:\n- {name: cluster-1, kubeconfig: %s, network: network-1}\n", cluster1Kubeconfig)
	if err := os.WriteFile(clustersPath, []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	cp.proc = e2eutil.Start(t, "causeway serve", filepath.Join(dir, "causeway-"+n+".log"), causewayBin, "serve",
		"--clusters", clustersPath,
		"--management-kubeconfig", managementKubeconfig,
		"--namespace", controlNamespace,
		"--sync-timeout", "30s",
		"--xds-address", cp.xdsAddr,
		"--metrics-address", cp.metricsAddr,
		"--ca-dir", cp.caDir,
		"--log-level", "debug")
	t.Cleanup(func() { cp.dumpOnFailure(t) })
	if err := e2eutil.Eventually(45*time.Second, 100*time.Millisecond, func() error {
		if cp.proc.Exited() {
			return fmt.Errorf("causeway serve exited")
		}
		return e2eutil.HTTPOK("http://" + cp.metricsAddr + "/readyz")
	}); err != nil {
		t.Fatalf("causeway serve not ready: %v\n%s", err, e2eutil.Indent(cp.proc.LogTail(40)))
	}
	return cp
}

// awaitTokenProxy waits until serve counts the gateway of cluster-1 as
// connected (its stream passed authentication) and Envoy, connected, has
// accepted more than updatesBefore CDS updates (one on this stream: an
// update arrives on every new stream, empty or not). It returns Envoy's
// stats then.
func awaitTokenProxy(t *testing.T, cp *controlPlane, envoy *envoyrun.Envoy, when string, updatesBefore uint64) map[string]uint64 {
	t.Helper()
	series := fmt.Sprintf(`causeway_xds_connected_proxies{cluster="cluster-1",role="%s"}`, model.RoleGateway)
	start := time.Now()
	var stats map[string]uint64
	if err := e2eutil.Eventually(60*time.Second, 200*time.Millisecond, func() error {
		if envoy.Exited() {
			return fmt.Errorf("envoy exited")
		}
		if v, err := cp.metric(series); err != nil || v != 1 {
			return fmt.Errorf("%s = %v (%v), want 1", series, v, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		if stats, err = envoy.Stats(ctx); err != nil {
			return err
		}
		if v := stats["control_plane.connected_state"]; v != 1 {
			return fmt.Errorf("envoy control_plane.connected_state = %d", v)
		}
		if v := stats[cdsUpdates]; v <= updatesBefore {
			return fmt.Errorf("envoy %s = %d, want more than %d", cdsUpdates, v, updatesBefore)
		}
		return nil
	}); err != nil {
		t.Fatalf("proxy %s: not served: %v\n--- serve log tail:\n%s", when, err, e2eutil.Indent(cp.proc.LogTail(20)))
	}
	t.Logf("proxy %s: served %v after serve was ready (%s %d)", when, time.Since(start).Round(time.Millisecond), cdsUpdates, stats[cdsUpdates])
	return stats
}

// Envoy stats the token test reads: CDS updates accepted, and ADS streams
// closed UNAUTHENTICATED (gRPC code 16) by the server, of the Google gRPC
// client's stat prefix (bootstrap.XDSClusterName).
const (
	cdsUpdates         = "cluster_manager.cds.update_success"
	adsUnauthenticated = "grpc.causeway_xds.streams_closed_16"
)

// boundGatewayToken mints a token of causeway-system/causeway-gateway in
// cluster c with the TokenRequest API, as the kubelet does for a projected
// token, bound to a new Secret named secret: deleting the Secret revokes
// the token (the API server checks a bound object still exists).
func boundGatewayToken(ctx context.Context, t *testing.T, c kubernetes.Interface, secret string) string {
	t.Helper()
	ns, sa := controlNamespace, ca.ServiceAccountPrefix+string(model.RoleGateway)
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
	if _, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create ServiceAccount %s/%s: %v", ns, sa, err)
	}
	deleteSecret(ctx, t, c, ns, secret) // from an earlier run on the same API server
	s, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Secret %s/%s: %v", ns, secret, err)
	}
	t.Cleanup(func() { deleteSecret(context.Background(), t, c, ns, secret) })
	exp := int64(600)
	tr, err := c.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{
		ExpirationSeconds: &exp,
		BoundObjectRef:    &authnv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: secret, UID: s.UID},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s bound to Secret %s: %v", ns, sa, secret, err)
	}
	return tr.Status.Token
}

func deleteSecret(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := c.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete Secret %s/%s: %v", ns, name, err)
	}
}

// kubeletWriteToken writes token into dir/token the way the kubelet
// updates a projected volume: the data goes into a new timestamped
// directory, a ..data_tmp symlink to it is renamed over ..data, and
// dir/token is a symlink through ..data, so a reader sees the old or the
// new token, never a mix; then the old directory is removed.
func kubeletWriteToken(t *testing.T, dir, version, token string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := "..2026_" + version
	if err := os.Mkdir(filepath.Join(dir, data), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, data, "token"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	if err := os.Symlink(data, filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "token")); os.IsNotExist(err) {
		if err := os.Symlink(filepath.Join("..data", "token"), filepath.Join(dir, "token")); err != nil {
			t.Fatal(err)
		}
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			t.Fatal(err)
		}
	}
}

// adsWithToken opens an ADS stream to the token test's serve with
// "authorization: Bearer token" as the gateway of cluster-1 and returns
// the status the server answers it with (OK once it sends a response).
func adsWithToken(ctx context.Context, t *testing.T, caFile, token string) codes.Code {
	t.Helper()
	rootPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("no certificate in %s", caFile)
	}
	conn, err := grpc.NewClient(tokenXDSAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
		RootCAs: roots, ServerName: e2eutil.XDSServerName, MinVersion: tls.VersionTLS12})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	stream, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return status.Code(err)
	}
	// Every authenticated proxy is served its identity over SDS.
	node := proxyNode("token-rotation-probe", model.RoleGateway, "cluster-1", model.Locality{})
	if err := stream.Send(&discoverygrpc.DiscoveryRequest{Node: node, TypeUrl: resource.SecretType,
		ResourceNames: []string{translator.IdentitySecretName, translator.RootCASecretName}}); err != nil && err != io.EOF {
		return status.Code(err)
	} // io.EOF: refused before the first request; Recv has the status
	if _, err := stream.Recv(); err != nil {
		return status.Code(err)
	}
	return codes.OK
}

// exitStderr is the stderr of a failed exec.Command(...).Output().
func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
