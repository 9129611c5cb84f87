package e2ekube

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
)

// suite is what every test of the package shares: the API servers, one
// running control plane and two ADS clients.
type suite struct {
	env              *kubeenv.Env
	mgmt, c1, c2     *kube
	mgmtClient       kubernetes.Interface
	cp               *controlPlane
	gw1, gw2         *edsWatch // gateway proxies of cluster-1 and cluster-2
	cluster2Original []byte    // the kubeconfig the cluster-2 Secret starts with
	// broken is set when a scenario could not restore the baseline; the
	// scenarios after it fail at once instead of on a different world.
	broken error
}

// Proxy localities: each gateway sits in its cluster's first zone.
var (
	gateway1Locality = model.Locality{Region: "us-east", Zone: "us-east-1a"}
	gateway2Locality = model.Locality{Region: "us-west", Zone: "us-west-1a"}
)

// Endpoint localities as the Nodes give them (see the templates).
const (
	c1Locality = "us-east/us-east-1a/"
	c2Locality = "us-west/us-west-1b/rack-7"
)

// newSuite creates the objects of the walk-through in the three API
// servers, registers cluster-2 through a Secret, starts `causeway serve`
// and subscribes one ADS client per gateway to the reviews assignment.
func newSuite(t *testing.T, env *kubeenv.Env) *suite {
	t.Helper()
	s := &suite{
		env:  env,
		mgmt: newKube(t, "management", env.Cluster("management").Config),
		c1:   newKube(t, "cluster-1", env.Cluster("cluster-1").Config),
		c2:   newKube(t, "cluster-2", env.Cluster("cluster-2").Config),
	}
	s.mgmtClient = env.Cluster("management").Clientset()
	s.mgmt.apply(t, managementNamespaces)
	s.mgmt.apply(t, render(configTemplate, config{PreferClose: true}))
	s.c1.apply(t, workloadNamespace)
	s.c1.apply(t, render(cluster1Template, allReady))
	s.c2.apply(t, workloadNamespace)
	s.c2.apply(t, render(cluster2Template, allReady))
	var err error
	if s.cluster2Original, err = env.Cluster("cluster-2").Kubeconfig(kubeenv.AdminToken); err != nil {
		t.Fatal(err)
	}
	s.applyClusterSecret(t, s.cluster2Original)

	s.cp = startCauseway(t, env.Cluster("management").KubeconfigPath, env.Cluster("cluster-1").KubeconfigPath)
	s.gw1 = watchEDS(t, s.cp.xdsAddr, e2eutil.ProxyTLSConfig(t, s.cp.caDir, string(model.RoleGateway), "cluster-1"),
		proxyNode("e2ekube-gateway-1", model.RoleGateway, "cluster-1", gateway1Locality), reviewsCluster)
	s.gw2 = watchEDS(t, s.cp.xdsAddr, e2eutil.ProxyTLSConfig(t, s.cp.caDir, string(model.RoleGateway), "cluster-2"),
		proxyNode("e2ekube-gateway-2", model.RoleGateway, "cluster-2", gateway2Locality), reviewsCluster)
	return s
}

// clusterSecretName is the Secret registering cluster-2; its name differs
// from the cluster's so the name can only come from the annotation.
const clusterSecretName = "remote-cluster-2"

// applyClusterSecret creates or updates the Secret that registers
// cluster-2 with the given kubeconfig.
func (s *suite) applyClusterSecret(t *testing.T, kubeconfig []byte) {
	t.Helper()
	if err := s.applyClusterSecretErr(kubeconfig); err != nil {
		t.Fatal(err)
	}
}

func (s *suite) applyClusterSecretErr(kubeconfig []byte) error {
	secret := corev1ac.Secret(clusterSecretName, controlNamespace).
		WithLabels(map[string]string{"causeway.dev/cluster": "true"}).
		WithAnnotations(map[string]string{
			"causeway.dev/cluster-name":       "cluster-2",
			"causeway.dev/network":            "network-2",
			"causeway.dev/region":             "us-west",
			"causeway.dev/zone":               "us-west-1a",
			"causeway.dev/east-west-gateways": cluster2EastWest,
		}).
		WithType("Opaque").
		WithData(map[string][]byte{"kubeconfig": kubeconfig})
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if _, err := s.mgmtClient.CoreV1().Secrets(controlNamespace).Apply(ctx, secret, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		return fmt.Errorf("apply Secret %s/%s: %w", controlNamespace, clusterSecretName, err)
	}
	return nil
}

func (s *suite) deleteClusterSecret(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	if err := s.mgmtClient.CoreV1().Secrets(controlNamespace).Delete(ctx, clusterSecretName, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete Secret %s/%s: %v", controlNamespace, clusterSecretName, err)
	}
}

// restoreBaseline puts every object back the way newSuite left it (all
// endpoints ready, PreferClose, cluster-2 registered with its original
// kubeconfig and running) and waits until cluster-1's gateway sees it
// again, so a failed test does not leave the next one a different world.
// The wait allows for client-go's reconnect backoff after an outage.
func (s *suite) restoreBaseline() error {
	if err := s.env.Cluster("cluster-2").Start(); err != nil {
		return fmt.Errorf("restart cluster-2: %w", err)
	}
	for _, step := range []struct {
		k         *kube
		manifests string
	}{
		{s.c1, render(cluster1Template, allReady)},
		{s.c2, render(cluster2Template, allReady)},
		{s.mgmt, render(configTemplate, config{PreferClose: true})},
	} {
		if err := step.k.applyErr(step.manifests); err != nil {
			return fmt.Errorf("%s: %w", step.k.name, err)
		}
	}
	if err := s.applyClusterSecretErr(s.cluster2Original); err != nil {
		return err
	}
	_, err := s.gw1.awaitErr(60*time.Second, equals(baseline1()...))
	return err
}

// Expected-endpoint helpers. An endpoint of the proxy's own cluster is its
// address and target port with weight 1; another cluster's endpoints are
// its east-west gateway with weight n (how many endpoints it stands for),
// over mTLS. A locality's weight is the number of endpoints in it.

func local(ip string) lbEntry { return lbEntry{Address: ip + ":9080", Weight: 1} }

func viaEastWest(addr string, n uint32) lbEntry {
	return lbEntry{Address: addr, Weight: n, MTLS: true}
}

// group puts entries at one priority and locality.
func group(priority uint32, locality string, entries ...lbEntry) []lbEntry {
	var weight uint32
	for _, e := range entries {
		weight += e.Weight
	}
	out := make([]lbEntry, len(entries))
	for i, e := range entries {
		e.Priority, e.Locality, e.LocalityWeight = priority, locality, weight
		out[i] = e
	}
	return out
}

func concat(groups ...[]lbEntry) []lbEntry {
	var out []lbEntry
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// baseline1 is what cluster-1's gateway gets with everything up and
// PreferClose: its own zone first, cluster-2 (another region) next.
func baseline1() []lbEntry {
	return concat(
		group(0, c1Locality, local(v1Address), local(v2Address)),
		group(1, c2Locality, viaEastWest(cluster2EastWest, 1)),
	)
}

// baseline2 is what cluster-2's gateway (us-west-1a) gets: its own region
// first (the endpoint is in us-west-1b), cluster-1 next, through cluster-1's
// east-west gateway from the clusters file.
func baseline2() []lbEntry {
	return concat(
		group(0, c2Locality, local(v3Address)),
		group(1, c1Locality, viaEastWest(cluster1EastWest, 2)),
	)
}
