package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	gwfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"

	"github.com/causeway-dev/causeway/model"
)

// Unit tests of the controller against fake clientsets: the parts whose
// timing a real API server cannot be made to show on demand (a client that
// never syncs, a probe that fails at an exact moment). The same behaviour
// against real API servers is in kube_test.go.

// testLogger collects a controller's log and prints it when the test fails.
type testLogger struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func newTestLogger(t *testing.T) (*slog.Logger, *testLogger) {
	l := &testLogger{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller log:\n%s", l.String())
		}
	})
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

func (l *testLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns how many log lines contain every one of parts.
func (l *testLogger) count(parts ...string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		all := line != ""
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// fakeCluster is a workload cluster's fake clientset whose readiness probe
// the test controls.
type fakeCluster struct {
	*fake.Clientset
	down atomic.Bool
}

func (f *fakeCluster) probeReadyz(context.Context) error {
	if f.down.Load() {
		return errors.New("dial tcp: connection refused")
	}
	return nil
}

// blockLists makes every list on the cluster wait until release is closed,
// so its informers cannot sync before the test says so.
func (f *fakeCluster) blockLists(release <-chan struct{}) {
	f.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		<-release
		return false, nil, nil
	})
}

// workload returns a cluster with Service shop/reviews (app: reviews), one
// EndpointSlice endpoint per address on node-<cluster> with region/zone
// labels.
func fakeWorkload(cluster string, addrs ...string) *fakeCluster {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "reviews", Labels: map[string]string{"app": "reviews"}},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 9080}}},
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + cluster, Labels: map[string]string{
		corev1.LabelTopologyRegion: "region-" + cluster, corev1.LabelTopologyZone: "zone-" + cluster}}}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "shop", Name: "reviews-1", Labels: map[string]string{discoveryv1.LabelServiceName: "reviews"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(9080))}},
	}
	for _, a := range addrs {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}, NodeName: ptrTo(node.Name)})
	}
	return &fakeCluster{Clientset: fake.NewClientset(svc, node, es)}
}

func ptrTo[T any](v T) *T { return &v }

// fakeEnv is a management cluster plus workload clusters keyed by the
// server URL their kubeconfigs name.
type fakeEnv struct {
	t        *testing.T
	mgmtKube *fake.Clientset
	dyn      *dynamicfake.FakeDynamicClient
	gw       *gwfake.Clientset
	clusters map[string]*fakeCluster
}

func newFakeEnv(t *testing.T, crs ...runtime.Object) *fakeEnv {
	listKinds := map[schema.GroupVersionResource]string{
		gvrVirtualDestination:     "VirtualDestinationList",
		gvrExternalService:        "ExternalServiceList",
		gvrFailoverPolicy:         "FailoverPolicyList",
		gvrOutlierDetectionPolicy: "OutlierDetectionPolicyList",
		gvrWorkspace:              "WorkspaceList",
		gvrGatewayParameters:      "GatewayParametersList",
	}
	return &fakeEnv{
		t:        t,
		mgmtKube: fake.NewClientset(),
		dyn:      dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, crs...),
		gw:       gwfake.NewClientset(),
		clusters: map[string]*fakeCluster{},
	}
}

func (e *fakeEnv) newClient(c *rest.Config) (kubernetes.Interface, error) {
	fc, ok := e.clusters[c.Host]
	if !ok {
		return nil, fmt.Errorf("no fake cluster at %s", c.Host)
	}
	return fc, nil
}

// secret creates or updates a cluster Secret pointing at server.
func (e *fakeEnv) secret(name, server, token string, annotations map[string]string) {
	e.t.Helper()
	e.putSecret(clusterSecret(name, testKubeconfig(e.t, server, token), annotations))
}

func (e *fakeEnv) putSecret(s *corev1.Secret) {
	e.t.Helper()
	ctx := context.Background()
	secrets := e.mgmtKube.CoreV1().Secrets(s.Namespace)
	if _, err := secrets.Get(ctx, s.Name, metav1.GetOptions{}); err == nil {
		s.ResourceVersion = ""
		if _, err := secrets.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			e.t.Fatal(err)
		}
		return
	}
	if _, err := secrets.Create(ctx, s, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// run starts a controller on the fakes and stops it when the test ends.
func (e *fakeEnv) run(opts Options) (*Controller, *model.Store, *testLogger) {
	t := e.t
	log, logs := newTestLogger(t)
	store := &model.Store{}
	opts.Store, opts.Log, opts.Namespace = store, log, "causeway-system"
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	c, err := newController(opts, &managementClients{kube: e.mgmtKube, dynamic: e.dyn, gateway: e.gw}, e.newClient)
	if err != nil {
		t.Fatal(err)
	}
	c.probeInterval = 20 * time.Millisecond
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
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return 10s after cancel")
		}
	})
	return c, store, logs
}

// waitFor polls check every 10ms until it returns nil, failing the test
// with check's last error after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// endpointState is what the tests check of one endpoint.
type endpointState struct {
	Address  string
	Ready    bool
	Stale    bool
	Locality model.Locality
}

// serviceEndpoints returns the endpoints of cluster/ns/name, or nil when the
// snapshot has no such service.
func serviceEndpoints(s *model.Snapshot, cluster, ns, name string) []endpointState {
	svc := s.Service(model.ServiceKey{Cluster: cluster, Namespace: ns, Name: name})
	if svc == nil {
		return nil
	}
	out := []endpointState{}
	for _, ep := range svc.Endpoints {
		out = append(out, endpointState{Address: ep.Address, Ready: ep.Ready, Stale: ep.Stale, Locality: ep.Locality})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// addresses lists the endpoint addresses of cluster's shop/reviews.
func addresses(s *model.Snapshot, cluster string) []string {
	var out []string
	for _, ep := range serviceEndpoints(s, cluster, "shop", "reviews") {
		out = append(out, ep.Address)
	}
	return out
}

func wantAddresses(store *model.Store, cluster string, want ...string) func() error {
	return func() error {
		got := addresses(store.Load(), cluster)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("cluster %s endpoints %v, want %v", cluster, got, want)
		}
		return nil
	}
}

func TestFakeClustersFromSecrets(t *testing.T) {
	e := newFakeEnv(t)
	e.clusters["https://c1.test"] = fakeWorkload("c1", "10.1.0.1")
	e.clusters["https://c2.test"] = fakeWorkload("c2", "10.2.0.1")
	e.secret("c1", "https://c1.test", "t", nil)
	c, store, logs := e.run(Options{})

	waitFor(t, 5*time.Second, "c1 from its Secret", wantAddresses(store, "c1", "10.1.0.1"))
	if !c.Ready() {
		t.Error("published before Ready")
	}
	if got := serviceEndpoints(store.Load(), "c1", "shop", "reviews")[0].Locality; got != (model.Locality{Region: "region-c1", Zone: "zone-c1"}) {
		t.Errorf("locality %+v, want the Node's", got)
	}

	t.Log("a Secret added at runtime")
	e.secret("c2", "https://c2.test", "t", map[string]string{SecretAnnotationNetwork: "net-2"})
	waitFor(t, 5*time.Second, "c2 added", wantAddresses(store, "c2", "10.2.0.1"))
	if cl := store.Load().Cluster("c2"); cl == nil || cl.Network != "net-2" {
		t.Errorf("cluster c2 = %+v, want network net-2", cl)
	}

	t.Log("settings changed without a new kubeconfig")
	e.secret("c2", "https://c2.test", "t", map[string]string{SecretAnnotationNetwork: "net-2b"})
	waitFor(t, 5*time.Second, "c2 network updated", func() error {
		if cl := store.Load().Cluster("c2"); cl == nil || cl.Network != "net-2b" {
			return fmt.Errorf("cluster c2 = %+v", cl)
		}
		return nil
	})

	t.Log("a broken kubeconfig leaves the running cluster alone")
	e.putSecret(clusterSecret("c2", []byte("not: [a kubeconfig"), nil))
	waitFor(t, 5*time.Second, "error naming the Secret and key", func() error {
		if logs.count("level=ERROR", "Secret causeway-system/c2", `key \"kubeconfig\"`) == 0 {
			return errors.New("not logged")
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // a reconcile and a rebuild
	if err := wantAddresses(store, "c2", "10.2.0.1")(); err != nil {
		t.Errorf("after a broken kubeconfig: %v", err)
	}

	t.Log("a second Secret claiming a taken name is refused")
	e.secret("other", "https://c2.test", "t", map[string]string{SecretAnnotationClusterName: "c1"})
	waitFor(t, 5*time.Second, "name conflict logged", func() error {
		if logs.count("level=ERROR", "secret=causeway-system/other", "definedBy=\"Secret causeway-system/c1\"") == 0 {
			return errors.New("not logged")
		}
		return nil
	})
	if err := wantAddresses(store, "c1", "10.1.0.1")(); err != nil {
		t.Error(err)
	}

	t.Log("a removed Secret takes its cluster out")
	if err := e.mgmtKube.CoreV1().Secrets("causeway-system").Delete(context.Background(), "c2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "c2 removed", func() error {
		if s := store.Load(); s.Cluster("c2") != nil || addresses(s, "c2") != nil {
			return errors.New("c2 still in the snapshot")
		}
		return nil
	})
	if n := logs.count("level=ERROR", "Secret causeway-system/c2"); n != 1 {
		t.Errorf("broken Secret logged %d times, want once", n)
	}
}

func TestFakeRotationWaitsForSync(t *testing.T) {
	e := newFakeEnv(t)
	e.clusters["https://old.test"] = fakeWorkload("c1", "10.1.0.1")
	rotated := fakeWorkload("c1", "10.1.0.2")
	release := make(chan struct{})
	var once sync.Once
	releaseOnce := func() { once.Do(func() { close(release) }) }
	rotated.blockLists(release)
	e.clusters["https://new.test"] = rotated
	e.secret("c1", "https://old.test", "t", nil)
	_, store, logs := e.run(Options{SyncTimeout: 200 * time.Millisecond})
	t.Cleanup(releaseOnce) // runs before the controller stops (cleanups are LIFO)
	waitFor(t, 5*time.Second, "c1 from the old kubeconfig", wantAddresses(store, "c1", "10.1.0.1"))

	e.secret("c1", "https://new.test", "t", nil)
	waitFor(t, 5*time.Second, "rotation started", func() error {
		if logs.count("rotated; syncing the new client") == 0 {
			return errors.New("not logged")
		}
		return nil
	})
	// The new client cannot sync: the old one keeps serving, and after
	// the rotation timeout (SyncTimeout) that is reported.
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if err := wantAddresses(store, "c1", "10.1.0.1")(); err != nil {
			t.Fatalf("while the rotated client syncs: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if logs.count("level=ERROR", "rotated kubeconfig has not synced") != 1 {
		t.Error("slow rotation not reported once")
	}

	releaseOnce()
	// Every snapshot until the switch has the old endpoint, after it the new.
	waitFor(t, 5*time.Second, "switched to the rotated kubeconfig", func() error {
		got := addresses(store.Load(), "c1")
		switch strings.Join(got, ",") {
		case "10.1.0.2":
			return nil
		case "10.1.0.1":
			return errors.New("still the old client")
		}
		t.Fatalf("endpoints %v during the rotation", got)
		return nil
	})
}

func TestFakeStaleAfterUnreachable(t *testing.T) {
	e := newFakeEnv(t)
	c1 := fakeWorkload("c1", "10.1.0.1")
	e.clusters["https://c1.test"] = c1
	e.secret("c1", "https://c1.test", "t", nil)
	reg := prometheus.NewRegistry()
	const staleAfter = time.Second
	_, store, _ := e.run(Options{StaleAfter: staleAfter, Registry: reg})
	waitFor(t, 5*time.Second, "c1", wantAddresses(store, "c1", "10.1.0.1"))
	fresh := []endpointState{{Address: "10.1.0.1", Ready: true, Locality: model.Locality{Region: "region-c1", Zone: "zone-c1"}}}
	stale := []endpointState{{Address: "10.1.0.1", Ready: true, Stale: true, Locality: model.Locality{Region: "region-c1", Zone: "zone-c1"}}}
	wantEndpoints := func(want []endpointState) func() error {
		return func() error {
			if diff := cmp.Diff(want, serviceEndpoints(store.Load(), "c1", "shop", "reviews")); diff != "" {
				return errors.New(diff)
			}
			return nil
		}
	}
	waitFor(t, time.Second, "metrics", wantGauges(reg, "c1", 1, 1, 0))

	down := time.Now()
	c1.down.Store(true)
	waitFor(t, time.Second, "unreachable", wantGauges(reg, "c1", 1, 0, 0))
	if err := wantEndpoints(fresh)(); err != nil {
		t.Errorf("endpoints right after the outage began: %v", err)
	}
	waitFor(t, 3*time.Second, "stale", wantEndpoints(stale))
	if took := time.Since(down); took < staleAfter {
		t.Errorf("stale after %v, before StaleAfter %v", took, staleAfter)
	}
	waitFor(t, time.Second, "stale metric", wantGauges(reg, "c1", 1, 0, 1))

	c1.down.Store(false)
	waitFor(t, time.Second, "fresh again", wantEndpoints(fresh))
	waitFor(t, time.Second, "fresh metrics", wantGauges(reg, "c1", 1, 1, 0))
}

func TestFakeReadyWaitsForSync(t *testing.T) {
	cases := []struct {
		name        string
		syncTimeout time.Duration
		release     bool // let the slow cluster sync
		wantReadyIn time.Duration
		wantC2      bool
	}{
		{name: "every cluster synced", syncTimeout: time.Minute, release: true, wantReadyIn: 2 * time.Second, wantC2: true},
		{name: "sync timeout", syncTimeout: 600 * time.Millisecond, wantReadyIn: 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newFakeEnv(t)
			e.clusters["https://c1.test"] = fakeWorkload("c1", "10.1.0.1")
			slow := fakeWorkload("c2", "10.2.0.1")
			release := make(chan struct{})
			var once sync.Once
			slow.blockLists(release)
			e.clusters["https://c2.test"] = slow
			e.secret("c1", "https://c1.test", "t", nil)
			e.secret("c2", "https://c2.test", "t", nil)
			start := time.Now()
			c, store, _ := e.run(Options{SyncTimeout: tc.syncTimeout})
			t.Cleanup(func() { once.Do(func() { close(release) }) })

			time.Sleep(400 * time.Millisecond) // c1 and the management cluster sync in ~100ms
			if c.Ready() {
				t.Fatal("Ready while c2 has not synced")
			}
			if len(store.Load().Services()) != 0 {
				t.Fatal("published before Ready")
			}
			if tc.release {
				once.Do(func() { close(release) })
			}
			waitFor(t, tc.wantReadyIn, "Ready", func() error {
				if !c.Ready() {
					return errors.New("not ready")
				}
				return nil
			})
			if tc.syncTimeout < time.Minute {
				if took := time.Since(start); took < tc.syncTimeout {
					t.Errorf("ready after %v, before the sync timeout %v", took, tc.syncTimeout)
				}
			}
			waitFor(t, time.Second, "published", wantAddresses(store, "c1", "10.1.0.1"))
			if got := addresses(store.Load(), "c2") != nil; got != tc.wantC2 {
				t.Errorf("c2 published: %v, want %v", got, tc.wantC2)
			}
		})
	}
}

// unstructuredVD is a VirtualDestination as the dynamic client returns it.
func unstructuredVD(ns, name string, hosts ...interface{}) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "networking.causeway.dev/v1alpha1", "kind": "VirtualDestination",
		"metadata": map[string]interface{}{"namespace": ns, "name": name},
		"spec": map[string]interface{}{
			"hosts":    hosts,
			"ports":    []interface{}{map[string]interface{}{"number": int64(9080), "protocol": "HTTP"}},
			"services": []interface{}{map[string]interface{}{"labels": map[string]interface{}{"app": "reviews"}}},
		},
	}}
}

func TestFakeBadObjectsReportedOnce(t *testing.T) {
	e := newFakeEnv(t,
		unstructuredVD("shop", "good", "reviews.mesh.internal"),
		unstructuredVD("shop", "bad", "Not_A_Host"),
		unstructuredVD("shop", "wrongtype", int64(42)), // does not convert to the Go type
	)
	e.clusters["https://c1.test"] = fakeWorkload("c1", "10.1.0.1")
	e.secret("c1", "https://c1.test", "t", nil)
	_, store, logs := e.run(Options{})
	waitFor(t, 5*time.Second, "good VirtualDestination served", func() error {
		vds := store.Load().VirtualDestinations()
		if len(vds) != 1 || vds[0].Name != "good" {
			return fmt.Errorf("VirtualDestinations %+v", vds)
		}
		return nil
	})
	// More rebuilds must not repeat the reports.
	e.secret("c1", "https://c1.test", "t", map[string]string{SecretAnnotationNetwork: "n2"})
	waitFor(t, 5*time.Second, "rebuilt", func() error {
		if store.Load().Cluster("c1").Network != "n2" {
			return errors.New("not yet")
		}
		return nil
	})
	for _, want := range [][]string{
		{"level=ERROR", "VirtualDestination shop/bad: spec.hosts[0]"},
		{"level=ERROR", "VirtualDestination shop/wrongtype"},
	} {
		if n := logs.count(want...); n != 1 {
			t.Errorf("%q logged %d times, want once", want, n)
		}
	}
}

// gauge returns the value of the gauge name{cluster=cluster} in reg, or -1.
func gauge(reg *prometheus.Registry, name, cluster string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		return -1
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cluster" && l.GetValue() == cluster {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

// wantGauges checks the cluster's synced, reachable and stale gauges.
func wantGauges(reg *prometheus.Registry, cluster string, synced, reachable, stale float64) func() error {
	return func() error {
		got := [3]float64{gauge(reg, "causeway_cluster_synced", cluster), gauge(reg, "causeway_cluster_reachable", cluster), gauge(reg, "causeway_cluster_stale", cluster)}
		if want := [3]float64{synced, reachable, stale}; got != want {
			return fmt.Errorf("synced, reachable, stale = %v, want %v", got, want)
		}
		return nil
	}
}
