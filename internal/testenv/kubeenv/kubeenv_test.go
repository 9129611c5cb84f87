package kubeenv

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// "controllers" is TestControllers' own: the controllers it starts there would
// act on the other tests' hand-made Pods and EndpointSlices.
var shared = NewShared("management", "cluster-1", "cluster-2", "controllers")

func TestMain(m *testing.M) { os.Exit(shared.Run(m)) }

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestPrefixIsolation creates workload objects in cluster-1 and checks that
// cluster-1 serves them and cluster-2, sharing the etcd, does not.
func TestPrefixIsolation(t *testing.T) {
	env := shared.Env(t)
	ctx := ctxFor(t)
	c1, c2 := env.Cluster("cluster-1").Clientset(), env.Cluster("cluster-2").Clientset()
	const ns = "isolation"
	createWorkload(ctx, t, c1, ns, "isolation-node")

	gets := []struct {
		kind string
		get  func(kubernetes.Interface) error
	}{
		{"Namespace", func(c kubernetes.Interface) error {
			_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return err
		}},
		{"Service", func(c kubernetes.Interface) error {
			_, err := c.CoreV1().Services(ns).Get(ctx, "reviews", metav1.GetOptions{})
			return err
		}},
		{"EndpointSlice", func(c kubernetes.Interface) error {
			_, err := c.DiscoveryV1().EndpointSlices(ns).Get(ctx, "reviews-1", metav1.GetOptions{})
			return err
		}},
		{"Node", func(c kubernetes.Interface) error {
			_, err := c.CoreV1().Nodes().Get(ctx, "isolation-node", metav1.GetOptions{})
			return err
		}},
		{"Pod", func(c kubernetes.Interface) error {
			_, err := c.CoreV1().Pods(ns).Get(ctx, "reviews-v1", metav1.GetOptions{})
			return err
		}},
	}
	for _, g := range gets {
		t.Run(g.kind, func(t *testing.T) {
			if err := g.get(c1); err != nil {
				t.Errorf("cluster-1: %v", err)
			}
			if err := g.get(c2); !apierrors.IsNotFound(err) {
				t.Errorf("cluster-2: got %v, want NotFound (the clusters share etcd but not its prefix)", err)
			}
		})
	}
}

// createWorkload creates what discovery reads: a Namespace, a Node, a
// Service with an EndpointSlice whose endpoint points at a Pod on the Node.
func createWorkload(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, node string) {
	t.Helper()
	labels := map[string]string{"app": "reviews", "version": "v1"}
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   node,
		Labels: map[string]string{"topology.kubernetes.io/region": "us-east", "topology.kubernetes.io/zone": "us-east-1a"},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "reviews-v1", Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "reviews", Image: "example.invalid/reviews:v1"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Pod: %v", err)
	}
	svc, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "reviews"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "reviews"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 9080, TargetPort: intstr.FromInt32(9080)}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Service: %v", err)
	}
	if svc.Spec.ClusterIP == "" {
		t.Errorf("Service got no cluster IP")
	}
	port, proto, portName := int32(9080), corev1.ProtocolTCP, "http"
	if _, err := c.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "reviews-1", Labels: map[string]string{discoveryv1.LabelServiceName: "reviews"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses: []string{"198.18.1.10"},
			NodeName:  &node,
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod.Name, UID: pod.UID},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create EndpointSlice: %v", err)
	}
}

// TestCRDs installs the CRDs on the management cluster, creates a Gateway
// through the typed client, lists VirtualDestinations through the dynamic
// client, and checks a workload cluster did not get the CRDs.
func TestCRDs(t *testing.T) {
	env := shared.Env(t)
	ctx := ctxFor(t)
	env.InstallCRDs(t, "management")
	env.InstallCRDs(t, "management") // idempotent on a shared Env

	mgmt := env.Cluster("management")
	gw, err := gwclient.NewForConfig(mgmt.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgmt.Clientset().CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gateways"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "ingress", Namespace: "gateways"},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: "causeway",
			Listeners:        []gwv1.Listener{{Name: "http", Port: 8080, Protocol: gwv1.HTTPProtocolType}},
		},
	}
	if _, err := gw.GatewayV1().Gateways("gateways").Create(ctx, want, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Gateway: %v", err)
	}
	got, err := gw.GatewayV1().Gateways("gateways").Get(ctx, "ingress", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The CRD's schema defaults allowedRoutes: proof the real CRD, not a
	// stand-in, is serving.
	same := gwv1.NamespacesFromSame
	wantListeners := []gwv1.Listener{{Name: "http", Port: 8080, Protocol: gwv1.HTTPProtocolType,
		AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &same}}}}
	if diff := cmp.Diff(wantListeners, got.Spec.Listeners); diff != "" {
		t.Errorf("Gateway listeners (-want +got):\n%s", diff)
	}

	vds := schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "virtualdestinations"}
	dyn, err := dynamic.NewForConfig(mgmt.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(vds).Namespace("gateways").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list VirtualDestinations on management: %v", err)
	}
	// CRDs are stored under the cluster's prefix like everything else.
	c1, err := gwclient.NewForConfig(env.Cluster("cluster-1").Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c1.GatewayV1().Gateways("gateways").List(ctx, metav1.ListOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("list Gateways on cluster-1: got %v, want NotFound (no CRD there)", err)
	}
}

// TestStopStart kills an apiserver, checks it is unreachable, restarts it
// and checks it serves the objects it had, through its kubeconfig file.
func TestStopStart(t *testing.T) {
	env := shared.Env(t)
	ctx := ctxFor(t)
	c := env.Cluster("cluster-2")
	client := c.Clientset()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Whatever happens below, later tests get the cluster back.
	t.Cleanup(func() {
		if err := c.Start(); err != nil {
			t.Errorf("restart in cleanup: %v", err)
		}
	})

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if c.Running() {
		t.Fatal("Running() after Stop")
	}
	if _, err := client.CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{}); err == nil {
		t.Fatal("stopped apiserver still answers")
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster-2 restarted in %v", time.Since(start).Round(time.Millisecond))

	cfg, err := clientcmd.BuildConfigFromFlags("", c.KubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("after restart, through %s: %v", c.KubeconfigPath, err)
	}
	if diff := cmp.Diff(cm.Data, got.Data); diff != "" {
		t.Errorf("ConfigMap data after restart (-want +got):\n%s", diff)
	}
}

// TestKubeconfigTokens checks both tokens authenticate and a wrong one
// does not, so a rotation test can swap credentials for real.
func TestKubeconfigTokens(t *testing.T) {
	env := shared.Env(t)
	ctx := ctxFor(t)
	c := env.Cluster("management")
	for _, tc := range []struct {
		token string
		ok    bool
	}{
		{AdminToken, true},
		{AlternateToken, true},
		{"wrong-token", false},
	} {
		t.Run(tc.token, func(t *testing.T) {
			kc, err := c.Kubeconfig(tc.token)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
			if tc.ok && err != nil {
				t.Errorf("got %v, want success", err)
			}
			if !tc.ok && !apierrors.IsUnauthorized(err) {
				t.Errorf("got %v, want Unauthorized", err)
			}
		})
	}
}

func TestClusterNames(t *testing.T) {
	env := shared.Env(t)
	if diff := cmp.Diff([]string{"cluster-1", "cluster-2", "controllers", "management"}, env.Names()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(env.Names(), func(n string) bool { return env.Cluster(n).Running() }) {
		t.Error("no cluster running")
	}
}
