package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
)

// The tests in this file run the Controller against real kube-apiservers
// (internal/testenv/kubeenv): one etcd and three API servers shared by every test
// of the package. They run one after another: TestKubeOutage and
// TestKubeReadyWaitsForSync stop cluster-2's API server.

var kubeShared = kubeenv.NewShared("management", "cluster-1", "cluster-2")

func TestMain(m *testing.M) { os.Exit(kubeShared.Run(m)) }

var runs atomic.Int64

// uniqueName gives each test run its own namespaces and Node names on the
// shared clusters (-count=N reruns tests; without a controller-manager,
// deleted namespaces never go away).
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, runs.Add(1))
}

// runKube starts a Controller on env's management cluster and stops it when
// the test ends.
func runKube(t *testing.T, env *kubeenv.Env, opts Options) (*Controller, *model.Store, *testLogger, *prometheus.Registry) {
	t.Helper()
	log, logs := newTestLogger(t)
	store, reg := &model.Store{}, prometheus.NewRegistry()
	opts.Management, opts.Store, opts.Log, opts.Registry = env.Cluster("management").Config, store, log, reg
	createNamespace(testCtx(t), t, env.Cluster("management").Clientset(), opts.Namespace)
	c, err := NewController(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return 15s after cancel")
		}
	})
	return c, store, logs, reg
}

func waitReady(t *testing.T, c *Controller, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	waitFor(t, timeout, "Ready", func() error {
		if !c.Ready() {
			return errors.New("not ready")
		}
		return nil
	})
	return time.Since(start)
}

// reviewsEndpoints waits until cluster's ns/reviews has exactly want.
func wantReviews(store *model.Store, cluster, ns string, want []endpointState) func() error {
	return func() error {
		if diff := cmp.Diff(want, serviceEndpoints(store.Load(), cluster, ns, "reviews")); diff != "" {
			return fmt.Errorf("%s/%s/reviews (-want +got):\n%s", cluster, ns, diff)
		}
		return nil
	}
}

func TestKubeDiscovery(t *testing.T) {
	env := kubeShared.Env(t)
	env.InstallCRDs(t, "management")
	ctx := testCtx(t)
	c1, c2 := env.Cluster("cluster-1").Clientset(), env.Cluster("cluster-2").Clientset()
	ns := uniqueName("disc")
	createReviews(ctx, t, c1, ns, ns+"-node-1", "us-east", "us-east-1a",
		kubeEndpoint{"10.1.0.1", "reviews-v1", "v1"}, kubeEndpoint{"10.1.0.2", "reviews-v2", "v2"})
	createReviews(ctx, t, c2, ns, ns+"-node-2", "us-west", "us-west-1b", kubeEndpoint{"10.2.0.1", "reviews-v3", "v3"})
	createVirtualDestination(ctx, t, env, ns, "reviews", "reviews.mesh.internal.com")

	c, store, _, reg := runKube(t, env, Options{ClusterConfigPath: writeClustersFile(t, env, "cluster-1", "cluster-2"), Namespace: ns + "-system"})
	t.Logf("ready after %v", waitReady(t, c, 30*time.Second))
	east := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	west := model.Locality{Region: "us-west", Zone: "us-west-1b"}
	waitFor(t, 10*time.Second, "cluster-1 endpoints", wantReviews(store, "cluster-1", ns, []endpointState{
		{Address: "10.1.0.1", Ready: true, Locality: east}, {Address: "10.1.0.2", Ready: true, Locality: east}}))
	waitFor(t, 10*time.Second, "cluster-2 endpoints", wantReviews(store, "cluster-2", ns, []endpointState{
		{Address: "10.2.0.1", Ready: true, Locality: west}}))

	snap := store.Load()
	var vd *model.VirtualDestination
	for i, v := range snap.VirtualDestinations() {
		if v.Namespace == ns && v.Name == "reviews" {
			vd = &snap.VirtualDestinations()[i]
		}
	}
	if vd == nil {
		t.Fatalf("VirtualDestination %s/reviews not in the snapshot: %+v", ns, snap.VirtualDestinations())
	}
	var selected []string
	for _, svc := range snap.SelectedServices(vd) {
		if svc.Namespace == ns {
			selected = append(selected, svc.Key().String())
			for _, ep := range svc.Endpoints {
				if ep.Labels["app"] != "reviews" || ep.Labels["version"] == "" {
					t.Errorf("endpoint %s labels %v, want its Pod's", ep.Address, ep.Labels)
				}
			}
		}
	}
	if diff := cmp.Diff([]string{"cluster-1/" + ns + "/reviews", "cluster-2/" + ns + "/reviews"}, selected); diff != "" {
		t.Errorf("selected services (-want +got):\n%s", diff)
	}
	if cl := snap.Cluster("cluster-1"); cl == nil || cl.Network != "net-cluster-1" || cl.Locality.Region != "cluster-1-region" {
		t.Errorf("cluster-1 = %+v, want the clusters file's network and locality", cl)
	}
	for _, cl := range []string{"cluster-1", "cluster-2"} {
		if err := wantGauges(reg, cl, 1, 1, 0)(); err != nil {
			t.Errorf("%s: %v", cl, err)
		}
	}

	start := time.Now()
	setEndpointReady(ctx, t, c1, ns, "10.1.0.2", false)
	waitFor(t, 10*time.Second, "endpoint not ready", wantReviews(store, "cluster-1", ns, []endpointState{
		{Address: "10.1.0.1", Ready: true, Locality: east}, {Address: "10.1.0.2", Ready: false, Locality: east}}))
	t.Logf("EndpointSlice update reached the model in %v", time.Since(start).Round(time.Millisecond))
}

func TestKubeSecretClusters(t *testing.T) {
	env := kubeShared.Env(t)
	env.InstallCRDs(t, "management")
	ctx := testCtx(t)
	app := uniqueName("sec")
	createReviews(ctx, t, env.Cluster("cluster-1").Clientset(), app, app+"-node-1", "us-east", "us-east-1a", kubeEndpoint{"10.1.1.1", "reviews-v1", "v1"})
	createReviews(ctx, t, env.Cluster("cluster-2").Clientset(), app, app+"-node-2", "us-west", "us-west-1b", kubeEndpoint{"10.2.1.1", "reviews-v3", "v3"})
	ns := app + "-system"
	c, store, logs, _ := runKube(t, env, Options{ClusterConfigPath: writeClustersFile(t, env, "cluster-1"), Namespace: ns})
	waitReady(t, c, 30*time.Second)
	west := []endpointState{{Address: "10.2.1.1", Ready: true, Locality: model.Locality{Region: "us-west", Zone: "us-west-1b"}}}
	waitFor(t, 10*time.Second, "cluster-1 from the file", wantReviews(store, "cluster-1", app, []endpointState{
		{Address: "10.1.1.1", Ready: true, Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}}}))
	if store.Load().Cluster("cluster-2") != nil {
		t.Fatal("cluster-2 present before its Secret")
	}

	start := time.Now()
	putClusterSecret(ctx, t, env, ns, "cluster-2", kubeconfigFor(t, env, "cluster-2", kubeenv.AdminToken),
		map[string]string{SecretAnnotationNetwork: "net-2", SecretAnnotationRegion: "eu"})
	waitFor(t, 15*time.Second, "cluster-2 added by its Secret", wantReviews(store, "cluster-2", app, west))
	t.Logf("Secret added: endpoints in the model after %v", time.Since(start).Round(time.Millisecond))
	if cl := store.Load().Cluster("cluster-2"); cl == nil || cl.Network != "net-2" || cl.Locality.Region != "eu" {
		t.Errorf("cluster-2 = %+v, want the Secret's annotations", cl)
	}

	t.Log("rotation: new credentials for the same API server")
	sub := store.Subscribe()
	start = time.Now()
	putClusterSecret(ctx, t, env, ns, "cluster-2", kubeconfigFor(t, env, "cluster-2", kubeenv.AlternateToken),
		map[string]string{SecretAnnotationNetwork: "net-2", SecretAnnotationRegion: "eu"})
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	checked, switched := 0, time.Time{}
	deadline := time.Now().Add(30 * time.Second)
	// Check every snapshot (each publish, and every 20ms) until well after
	// the switch to the new client.
	for switched.IsZero() || time.Since(switched) < time.Second {
		if time.Now().After(deadline) {
			t.Fatalf("rotation did not complete within 30s (%d snapshots checked)", checked)
		}
		select {
		case <-sub:
		case <-tick.C:
		}
		checked++
		if err := wantReviews(store, "cluster-2", app, west)(); err != nil {
			t.Fatalf("during the rotation, snapshot %d: %v", checked, err)
		}
		if switched.IsZero() && logs.count("cluster switched to the rotated kubeconfig", "cluster=cluster-2") > 0 {
			switched = time.Now()
			t.Logf("rotation: switched after %v", switched.Sub(start).Round(time.Millisecond))
		}
	}
	t.Logf("rotation: endpoints present in all %d snapshots checked", checked)

	t.Log("a broken kubeconfig is reported and the running client kept")
	putClusterSecret(ctx, t, env, ns, "cluster-2", []byte("clusters: [this is not"), nil)
	waitFor(t, 10*time.Second, "error naming the Secret and key", func() error {
		if logs.count("level=ERROR", "Secret "+ns+"/cluster-2", `key \"kubeconfig\"`) == 0 {
			return errors.New("not logged")
		}
		return nil
	})
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if err := wantReviews(store, "cluster-2", app, west)(); err != nil {
			t.Fatalf("after a broken kubeconfig: %v", err)
		}
	}

	start = time.Now()
	if err := env.Cluster("management").Clientset().CoreV1().Secrets(ns).Delete(ctx, "cluster-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "cluster-2 removed with its Secret", func() error {
		s := store.Load()
		if s.Cluster("cluster-2") != nil || serviceEndpoints(s, "cluster-2", app, "reviews") != nil {
			return errors.New("cluster-2 still in the model")
		}
		return nil
	})
	t.Logf("Secret removed: cluster gone from the model after %v", time.Since(start).Round(time.Millisecond))
	if err := wantReviews(store, "cluster-1", app, []endpointState{
		{Address: "10.1.1.1", Ready: true, Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}}})(); err != nil {
		t.Error(err)
	}
}

// stopCluster stops name's API server and restarts it when the test ends,
// whatever happens in between.
func stopCluster(t *testing.T, env *kubeenv.Env, name string) {
	t.Helper()
	cl := env.Cluster(name)
	t.Cleanup(func() {
		if err := cl.Start(); err != nil {
			t.Errorf("restart %s: %v", name, err)
		}
	})
	if err := cl.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestKubeOutage(t *testing.T) {
	env := kubeShared.Env(t)
	env.InstallCRDs(t, "management")
	ctx := testCtx(t)
	ns := uniqueName("out")
	createReviews(ctx, t, env.Cluster("cluster-2").Clientset(), ns, ns+"-node-2", "us-west", "us-west-1b", kubeEndpoint{"10.2.2.1", "reviews-v3", "v3"})
	const staleAfter = 2 * time.Second
	c, store, _, reg := runKube(t, env, Options{
		ClusterConfigPath: writeClustersFile(t, env, "cluster-1", "cluster-2"), Namespace: ns + "-system", StaleAfter: staleAfter})
	waitReady(t, c, 30*time.Second)
	west := model.Locality{Region: "us-west", Zone: "us-west-1b"}
	fresh := []endpointState{{Address: "10.2.2.1", Ready: true, Locality: west}}
	stale := []endpointState{{Address: "10.2.2.1", Ready: true, Stale: true, Locality: west}}
	waitFor(t, 10*time.Second, "cluster-2 endpoints", wantReviews(store, "cluster-2", ns, fresh))

	stopped := time.Now()
	stopCluster(t, env, "cluster-2")
	waitFor(t, 10*time.Second, "cluster-2 unreachable", wantGauges(reg, "cluster-2", 1, 0, 0))
	detected := time.Now()
	t.Logf("outage detected %v after the API server was killed", detected.Sub(stopped).Round(time.Millisecond))
	if err := wantReviews(store, "cluster-2", ns, fresh)(); err != nil {
		t.Errorf("endpoints right after the outage was detected: %v", err)
	}
	waitFor(t, 10*time.Second, "endpoints stale", wantReviews(store, "cluster-2", ns, stale))
	// The controller noticed the outage at or after the kill (the gauge
	// the test polls lags behind that by a rebuild), so staleness must not
	// come sooner than StaleAfter after the kill.
	if took := time.Since(stopped); took < staleAfter {
		t.Errorf("stale %v after the API server was killed, before StaleAfter %v", took, staleAfter)
	}
	t.Logf("stale %v after the kill, %v after the test saw the outage (StaleAfter %v)",
		time.Since(stopped).Round(time.Millisecond), time.Since(detected).Round(time.Millisecond), staleAfter)
	if err := wantGauges(reg, "cluster-2", 1, 0, 1)(); err != nil {
		t.Error(err)
	}
	if err := wantGauges(reg, "cluster-1", 1, 1, 0)(); err != nil {
		t.Errorf("cluster-1 affected by cluster-2's outage: %v", err)
	}

	if err := env.Cluster("cluster-2").Start(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	waitFor(t, 15*time.Second, "endpoints fresh again", wantReviews(store, "cluster-2", ns, fresh))
	t.Logf("fresh again %v after the API server answered /readyz", time.Since(restarted).Round(time.Millisecond))
	waitFor(t, 5*time.Second, "metrics after recovery", wantGauges(reg, "cluster-2", 1, 1, 0))
}

func TestKubeReadyWaitsForSync(t *testing.T) {
	env := kubeShared.Env(t)
	env.InstallCRDs(t, "management")
	stopCluster(t, env, "cluster-2")
	c, store, _, reg := runKube(t, env, Options{
		ClusterConfigPath: writeClustersFile(t, env, "cluster-1", "cluster-2"), Namespace: uniqueName("ready"), SyncTimeout: time.Minute})
	waitFor(t, 30*time.Second, "cluster-1 synced", wantGauges(reg, "cluster-1", 1, 1, 0))
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c.Ready() {
			t.Fatal("Ready while cluster-2 has never synced")
		}
	}
	if n := len(store.Load().Clusters()); n != 0 {
		t.Fatalf("a world with %d clusters published before Ready", n)
	}
	if err := env.Cluster("cluster-2").Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Ready %v after cluster-2's API server answered /readyz", waitReady(t, c, 45*time.Second).Round(time.Millisecond))
	waitFor(t, 5*time.Second, "both clusters published", func() error {
		if n := len(store.Load().Clusters()); n != 2 {
			return fmt.Errorf("%d clusters", n)
		}
		return nil
	})
}
