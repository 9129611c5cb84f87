package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// proxyNamespace is where the proxies' service accounts live (the xDS
// server's default --proxy-namespace).
const proxyNamespace = "causeway-system"

// createServiceAccount creates ns/name (and ns) in c, tolerating both
// existing from an earlier test or -count run.
func createServiceAccount(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, name string) {
	t.Helper()
	createNamespace(ctx, t, c, ns)
	_, err := c.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create ServiceAccount %s/%s: %v", ns, name, err)
	}
}

// mintToken asks c's apiserver for a token of ns/sa (TokenRequest API), for
// audiences (none: the apiserver's own), as a kubelet does for a pod's
// projected token.
func mintToken(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, sa string, audiences ...string) string {
	t.Helper()
	exp := int64(600) // the API's minimum
	tr, err := c.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: &exp},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", ns, sa, err)
	}
	return tr.Status.Token
}

// tokenFixture is the proxies' and a workload's service accounts in
// cluster-1 and cluster-2 and tokens minted for them.
type tokenFixture struct {
	gateway, eastwest, workload map[string]string // by cluster
	workloadNS                  string
}

func newTokenFixture(ctx context.Context, t *testing.T, env *kubeenv.Env) tokenFixture {
	t.Helper()
	f := tokenFixture{gateway: map[string]string{}, eastwest: map[string]string{}, workload: map[string]string{},
		workloadNS: uniqueName("app")}
	for _, cl := range []string{"cluster-1", "cluster-2"} {
		c := env.Cluster(cl).Clientset()
		for _, sa := range []string{"causeway-gateway", "causeway-eastwest"} {
			createServiceAccount(ctx, t, c, proxyNamespace, sa)
		}
		createServiceAccount(ctx, t, c, f.workloadNS, "reviews")
		f.gateway[cl] = mintToken(ctx, t, c, proxyNamespace, "causeway-gateway")
		f.eastwest[cl] = mintToken(ctx, t, c, proxyNamespace, "causeway-eastwest")
		f.workload[cl] = mintToken(ctx, t, c, f.workloadNS, "reviews")
	}
	return f
}

// TestKubeReviewToken: a token is accepted only by the apiserver of the
// cluster that minted it (each kubeenv apiserver has its own signing key,
// like real clusters), only for the apiserver's own audience, and an unknown
// cluster is an error rather than "some cluster accepted it".
func TestKubeReviewToken(t *testing.T) {
	env := kubeShared.Env(t)
	env.InstallCRDs(t, "management")
	ctx := testCtx(t)
	f := newTokenFixture(ctx, t, env)
	vaultToken := mintToken(ctx, t, env.Cluster("cluster-1").Clientset(), proxyNamespace, "causeway-gateway", "vault")

	c, _, _, _ := runKube(t, env, Options{ClusterConfigPath: writeClustersFile(t, env, "cluster-1", "cluster-2"), Namespace: uniqueName("tr") + "-system"})
	waitReady(t, c, 30*time.Second)

	ok := []struct{ cluster, token, want string }{
		{"cluster-1", f.gateway["cluster-1"], "system:serviceaccount:causeway-system:causeway-gateway"},
		{"cluster-2", f.gateway["cluster-2"], "system:serviceaccount:causeway-system:causeway-gateway"},
		{"cluster-1", f.eastwest["cluster-1"], "system:serviceaccount:causeway-system:causeway-eastwest"},
		{"cluster-2", f.workload["cluster-2"], "system:serviceaccount:" + f.workloadNS + ":reviews"},
	}
	for _, tc := range ok {
		got, err := c.ReviewToken(ctx, tc.cluster, tc.token)
		if err != nil || got != tc.want {
			t.Errorf("Review at %s = %q, %v; want %q", tc.cluster, got, err, tc.want)
		}
	}

	bad := []struct{ name, cluster, token, wantErr string }{
		{"cluster-1 token at cluster-2", "cluster-2", f.gateway["cluster-1"], `cluster "cluster-2": token not authenticated`},
		{"cluster-2 token at cluster-1", "cluster-1", f.eastwest["cluster-2"], `cluster "cluster-1": token not authenticated`},
		{"other audience", "cluster-1", vaultToken, `cluster "cluster-1": token not authenticated`},
		{"garbage", "cluster-1", "not-a-jwt", `cluster "cluster-1": token not authenticated`},
		{"empty", "cluster-1", "", "empty token"},
		{"unknown cluster", "cluster-9", f.gateway["cluster-1"], `cluster "cluster-9" is not a known workload cluster`},
	}
	for _, tc := range bad {
		got, err := c.ReviewToken(ctx, tc.cluster, tc.token)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: ReviewToken = %q, %v; want an error containing %q", tc.name, got, err, tc.wantErr)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}
