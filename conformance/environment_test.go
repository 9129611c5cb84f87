package conformance

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/internal/testenv/lbstandin"
	"github.com/causeway-dev/causeway/internal/testenv/nodeagent"
)

// The cluster the suite runs against: one apiserver with its controllers,
// one node. Addresses are this package's (see doc.go).
const (
	clusterName = "conformance"
	nodeName    = "conformance-node"
	// controlNamespace holds serve's Lease and CA root record; the
	// provisioned proxies go to serve's default --proxy-namespace, the
	// same causeway-system.
	controlNamespace = "causeway-system"
)

var (
	podNetwork = netip.MustParsePrefix("198.18.64.0/22")
	lbPool     = netip.MustParsePrefix("127.0.80.0/24")
)

// Image repositories the node agent runs (the tags do not matter: one
// binary stands for every tag).
const (
	echoBasicRepo = "registry.k8s.io/gateway-api/echo-basic"
	coreDNSRepo   = "registry.k8s.io/coredns/coredns"
)

// envoyRepos are the repositories of Causeway's default proxy image
// (api/v1alpha1.DefaultEnvoyImage) and its docker.io spelling.
var envoyRepos = []string{"envoyproxy/envoy", "docker.io/envoyproxy/envoy"}

// environment is everything the suite runs against.
type environment struct {
	cluster *kubeenv.Cluster
	client  kubernetes.Interface
	agent   *nodeagent.Agent
	lb      *lbstandin.Standin
	serve   *controlPlane
}

// startEnvironment brings up the cluster, its node, the load balancer and
// `causeway serve`, in that order; t's cleanups stop them in reverse.
// Missing binaries or privileges skip t (fail it under
// CAUSEWAY_REQUIRE_E2E=1) before anything starts.
func startEnvironment(t *testing.T) *environment {
	t.Helper()
	envoy := e2eutil.RequireEnvoy(t)
	bins, err := kubeenv.FindBinaries()
	if err != nil {
		kubeenv.SkipOrFail(t, "%v", err)
	}
	if err := bins.RequireControllers(); err != nil {
		kubeenv.SkipOrFail(t, "%v", err)
	}
	if err := bins.RequireCoreDNS(); err != nil {
		kubeenv.SkipOrFail(t, "%v", err)
	}
	if os.Geteuid() != 0 {
		e2eutil.SkipOrFail(t, "the node agent needs root for network namespaces (euid %d)", os.Geteuid())
	}

	start := time.Now()
	blockClusterIPs(t)
	env := kubeenv.Start(t, clusterName)
	e := &environment{cluster: env.Cluster(clusterName)}
	e.client = e.cluster.Clientset()
	e.cluster.RequireControllers(t)
	env.InstallCRDs(t, clusterName)
	t.Cleanup(func() { keepClusterLogs(t, env) })

	dir := t.TempDir()
	images := map[string]string{
		echoBasicRepo: nodeagent.BuildEchoBasic(t, dir),
		coreDNSRepo:   bins.CoreDNS,
	}
	for _, repo := range envoyRepos {
		images[repo] = envoy
	}
	e.agent = nodeagent.Start(t, nodeagent.Config{
		Client:   e.client,
		NodeName: nodeName,
		Network:  podNetwork,
		Images:   images,
		Dir:      filepath.Join(dir, "node"),
	})
	e.lb = lbstandin.Start(t, e.client, lbPool)
	createNamespace(t, e.client, controlNamespace)
	e.serve = startServe(t, e.cluster, e.agent.NodeAddress())
	t.Logf("environment ready in %v: cluster %s, node %s (%s), LB pool %s, causeway serve (xDS %s)",
		time.Since(start).Round(time.Millisecond), clusterName, nodeName, e.agent.NodeAddress(), lbPool, e.serve.xdsAddr)
	return e
}

func createNamespace(t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("namespace %s: %v", name, err)
	}
}

// keepClusterLogs copies the apiserver's and controllers' logs to
// CAUSEWAY_E2E_ARTIFACTS (when set), before the Env's directory goes.
func keepClusterLogs(t *testing.T, env *kubeenv.Env) {
	for _, name := range []string{"apiserver.log", "controller-manager.log", "scheduler.log"} {
		e2eutil.CopyToArtifacts(t, filepath.Join(env.Dir(), clusterName, name), name)
	}
}
