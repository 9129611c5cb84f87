package e2eonboard

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
)

const (
	clusterName      = "cluster-3"
	controlNamespace = "causeway-system"
	appNamespace     = "shop"
	cartHost         = "cart.mesh.internal.com"
	cartCluster      = "outbound|8080||" + cartHost
	cartAddress      = "198.18.85.10"
	apiTimeout       = 10 * time.Second
	// convergeWithin bounds Secret -> serve syncing the new cluster ->
	// EDS on a loaded 2-core machine; the measured time is logged.
	convergeWithin = 30 * time.Second
)

// TestCreateRemoteSecret: a workload cluster nothing knew about is
// registered with one `causeway create-remote-secret --apply`, and its
// endpoints reach a proxy over xDS, read with the token the command got.
func TestCreateRemoteSecret(t *testing.T) {
	env := kubeenv.Start(t, "management", clusterName)
	workload, management := env.Cluster(clusterName), env.Cluster("management")
	workload.RequireControllers(t) // the token controller fills the token Secret
	env.InstallCRDs(t, "management")
	mgmtClient := management.Clientset()
	for _, ns := range []string{controlNamespace, appNamespace} {
		createNamespace(t, mgmtClient, ns)
	}

	// The kubeconfig names the API server 127.0.0.1; --server gives it as
	// localhost (also in its certificate), so a Secret that works proves
	// --server is what was written.
	u, err := url.Parse(workload.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	server := "https://localhost:" + u.Port()
	args := []string{"create-remote-secret", "--kubeconfig", workload.KubeconfigPath, "--context", clusterName,
		"--name", clusterName, "--network", "network-3", "--locality", "eu-west/eu-west-1a", "--server", server}
	start := time.Now()
	stdout, stderr := runCauseway(t, append(args, "--apply", "--management-kubeconfig", management.KubeconfigPath, "--namespace", controlNamespace)...)
	t.Logf("create-remote-secret --apply took %v:\n%s", time.Since(start).Round(time.Millisecond), e2eutil.Indent(stderr))
	if stdout != "" || !strings.Contains(stderr, "applied Secret causeway-system/cluster-3 registering cluster cluster-3") {
		t.Errorf("--apply: stdout %q, stderr %q", stdout, stderr)
	}

	secret := getSecret(t, mgmtClient)
	checkRegistration(t, secret, server)
	checkTokenIdentity(t, secret.Data["kubeconfig"])

	// Idempotent: printing (no --apply) gives the same kubeconfig, the
	// token Secret in the workload cluster being kept.
	printed, _ := runCauseway(t, args...)
	obj, _, err := serializer.NewCodecFactory(clientgoscheme.Scheme, serializer.EnableStrict).UniversalDeserializer().Decode([]byte(printed), nil, nil)
	if err != nil {
		t.Fatalf("printed Secret: %v\n%s", err, printed)
	}
	if got := obj.(*corev1.Secret).StringData["kubeconfig"]; got != string(secret.Data["kubeconfig"]) {
		t.Errorf("second run printed another kubeconfig:\n%s\nwant\n%s", got, secret.Data["kubeconfig"])
	}

	// --token-duration: a TokenRequest token, expiring when the
	// annotation says, of the same ServiceAccount.
	printed, _ = runCauseway(t, append(args, "--token-duration", "1h")...)
	if obj, _, err = serializer.NewCodecFactory(clientgoscheme.Scheme, serializer.EnableStrict).UniversalDeserializer().Decode([]byte(printed), nil, nil); err != nil {
		t.Fatalf("printed Secret: %v\n%s", err, printed)
	}
	bound := obj.(*corev1.Secret)
	expires, err := time.Parse(time.RFC3339, bound.Annotations["causeway.dev/token-expires"])
	if d := time.Until(expires); err != nil || d < 50*time.Minute || d > 70*time.Minute {
		t.Errorf("causeway.dev/token-expires %q (%v): want about an hour from now", bound.Annotations["causeway.dev/token-expires"], err)
	}
	checkTokenIdentity(t, []byte(bound.StringData["kubeconfig"]))

	createCart(t, workload.Clientset())
	applyVirtualDestination(t, env)
	cp := startServe(t, management.KubeconfigPath)
	start = time.Now()
	got := awaitEndpoints(t, cp.xdsAddr, e2eutil.ProxyTLSConfig(t, cp.caDir, string(model.RoleGateway), clusterName),
		gatewayNode("e2eonboard-gateway-3", clusterName), cartCluster, convergeWithin, func(got []string) error {
			// Locality from --locality: the endpoint's Node says nothing.
			if want := []string{"p0 eu-west/eu-west-1a/ " + cartAddress + ":8080"}; !slices.Equal(got, want) {
				return fmt.Errorf("endpoints %v, want %v", got, want)
			}
			return nil
		})
	t.Logf("cluster-3's endpoint over EDS %v after subscribing: %v", time.Since(start).Round(time.Millisecond), got)
	if err := cp.metricIs(`causeway_cluster_synced{cluster="cluster-3"}`, "1"); err != nil {
		t.Error(err)
	}
}

// runCauseway runs the causeway binary, fails t unless it exits 0, and
// returns its stdout and stderr.
func runCauseway(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(causewayBin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("causeway %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

func createNamespace(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Namespace %s: %v", name, err)
	}
}

func getSecret(t *testing.T, c kubernetes.Interface) *corev1.Secret {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	s, err := c.CoreV1().Secrets(controlNamespace).Get(ctx, clusterName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the registration Secret: %v", err)
	}
	return s
}

// checkRegistration: the Secret carries what serve looks for, and its
// kubeconfig reaches --server.
func checkRegistration(t *testing.T, s *corev1.Secret, server string) {
	t.Helper()
	if s.Labels["causeway.dev/cluster"] != "true" {
		t.Errorf("labels %v: no causeway.dev/cluster=true", s.Labels)
	}
	want := map[string]string{
		"causeway.dev/cluster-name": clusterName, "causeway.dev/network": "network-3",
		"causeway.dev/region": "eu-west", "causeway.dev/zone": "eu-west-1a",
	}
	if d := cmp.Diff(want, s.Annotations); d != "" {
		t.Errorf("annotations (-want +got):\n%s", d)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data["kubeconfig"])
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	if cfg.Host != server || len(cfg.CAData) == 0 || cfg.Insecure {
		t.Errorf("kubeconfig: host %q (want %q), CA %d bytes, insecure %v", cfg.Host, server, len(cfg.CAData), cfg.Insecure)
	}
}

// checkTokenIdentity: the kubeconfig authenticates, through --server and
// its CA, as the ServiceAccount the command created (not the admin the
// command ran as).
func checkTokenIdentity(t *testing.T, kubeconfig []byte) {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BearerToken == kubeenv.AdminToken {
		t.Fatal("the kubeconfig holds the admin token")
	}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	review, err := kubernetes.NewForConfigOrDie(cfg).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("authenticate with the registered kubeconfig: %v", err)
	}
	if u := review.Status.UserInfo.Username; u != "system:serviceaccount:causeway-system:causeway-reader" {
		t.Errorf("the registered kubeconfig authenticates as %q", u)
	}
}
