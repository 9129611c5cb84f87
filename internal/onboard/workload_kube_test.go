package onboard

import (
	"context"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// TestPrepareWorkloadKube runs PrepareWorkload against a real
// kube-apiserver without kube-controller-manager (the end-to-end test in
// internal/e2eonboard covers the token Secret the controller fills).
func TestPrepareWorkloadKube(t *testing.T) {
	env := kubeenv.Start(t, "workload")
	c := env.Cluster("workload")
	dyn := dynamic.NewForConfigOrDie(c.Config)
	client := c.Clientset()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("TokenRequest, applied twice", func(t *testing.T) {
		opts := WorkloadOptions{Provisioner: true, TokenDuration: time.Hour}
		first, err := PrepareWorkload(ctx, dyn, client, opts)
		if err != nil {
			t.Fatal(err)
		}
		versions := resourceVersions(ctx, t, dyn)
		if len(versions) != 9 { // every manifest but token.yaml
			t.Errorf("%d objects in the cluster, want 9: %v", len(versions), versions)
		}
		if d := time.Until(first.Expires); d < 50*time.Minute || d > 70*time.Minute {
			t.Errorf("token expires in %v, want about 1h", d)
		}
		// The token is the ServiceAccount's, as the API server
		// authenticates it.
		cfg := rest.AnonymousClientConfig(c.Config)
		cfg.BearerToken = first.Token
		review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().
			Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("authenticate with the token: %v", err)
		}
		if u := review.Status.UserInfo.Username; u != "system:serviceaccount:causeway-system:causeway-reader" {
			t.Errorf("token authenticates as %q", u)
		}
		// Idempotent: a second run changes no object.
		if _, err := PrepareWorkload(ctx, dyn, client, opts); err != nil {
			t.Fatal(err)
		}
		for obj, v := range resourceVersions(ctx, t, dyn) {
			if versions[obj] != v {
				t.Errorf("%s changed on the second run: resourceVersion %s -> %s", obj, versions[obj], v)
			}
		}
	})

	t.Run("token Secret without a token controller", func(t *testing.T) {
		start := time.Now()
		_, err := PrepareWorkload(ctx, dyn, client, WorkloadOptions{TokenTimeout: 3 * time.Second})
		if err == nil {
			t.Fatal("no error although nothing fills the token Secret")
		}
		for _, want := range []string{"Secret causeway-system/causeway-reader-token", "data.token still empty after 3s", "--token-duration"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to contain %q", err, want)
			}
		}
		if el := time.Since(start); el > 15*time.Second {
			t.Errorf("gave up after %v, want about 3s", el)
		}
	})
}

// resourceVersions maps every object of the manifests that exists in the
// cluster to its resourceVersion.
func resourceVersions(ctx context.Context, t *testing.T, dyn dynamic.Interface) map[string]string {
	t.Helper()
	objs, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range objs {
		got, err := dyn.Resource(o.Resource).Namespace(o.GetNamespace()).Get(ctx, o.GetName(), metav1.GetOptions{})
		if err == nil {
			out[o.Describe()] = got.GetResourceVersion()
		}
	}
	return out
}
