package kube

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// Objects the real-API-server tests create. Every test uses its own
// namespaces and Node names: the clusters are shared by the package's tests.

// testCtx is bounded so that a hung API call fails the test instead of the
// whole package run.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func createNamespace(ctx context.Context, t *testing.T, c kubernetes.Interface, ns string) {
	t.Helper()
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
}

// kubeEndpoint is one EndpointSlice endpoint backed by a Pod.
type kubeEndpoint struct {
	addr, pod, version string
}

// createReviews creates, in namespace ns of c, Node node (region/zone),
// Service reviews (app: reviews, port http 9080) and one EndpointSlice with
// an endpoint and a Pod (labels app, version) per entry of eps.
func createReviews(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, node, region, zone string, eps ...kubeEndpoint) {
	t.Helper()
	createNamespace(ctx, t, c, ns)
	if _, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   node,
		Labels: map[string]string{corev1.LabelTopologyRegion: region, corev1.LabelTopologyZone: zone},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Node: %v", err)
	}
	if _, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "reviews", Labels: map[string]string{"app": "reviews"},
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "reviews"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 9080}},
		},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Service: %v", err)
	}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "reviews-1", Labels: map[string]string{discoveryv1.LabelServiceName: "reviews"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptrTo("http"), Port: ptrTo(int32(9080)), Protocol: ptrTo(corev1.ProtocolTCP)}},
	}
	for _, e := range eps {
		pod, err := c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: e.pod, Labels: map[string]string{"app": "reviews", "version": e.version}},
			Spec: corev1.PodSpec{
				NodeName:   node,
				Containers: []corev1.Container{{Name: "reviews", Image: "example.invalid/reviews:" + e.version}},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create Pod: %v", err)
		}
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{e.addr},
			NodeName:  ptrTo(node),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod.Name, UID: pod.UID},
		})
	}
	if _, err := c.DiscoveryV1().EndpointSlices(ns).Create(ctx, es, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create EndpointSlice: %v", err)
	}
}

// setEndpointReady flips the ready condition of addr in ns/reviews-1.
func setEndpointReady(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, addr string, ready bool) {
	t.Helper()
	es, err := c.DiscoveryV1().EndpointSlices(ns).Get(ctx, "reviews-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range es.Endpoints {
		if es.Endpoints[i].Addresses[0] == addr {
			es.Endpoints[i].Conditions.Ready = ptrTo(ready)
			found = true
		}
	}
	if !found {
		t.Fatalf("no endpoint %s in %s/reviews-1", addr, ns)
	}
	if _, err := c.DiscoveryV1().EndpointSlices(ns).Update(ctx, es, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createVirtualDestination creates a VirtualDestination selecting app:
// reviews on port 9080, through the dynamic client as users' tools would.
func createVirtualDestination(ctx context.Context, t *testing.T, env *kubeenv.Env, ns, name, host string) {
	t.Helper()
	createNamespace(ctx, t, env.Cluster("management").Clientset(), ns)
	dc, err := dynamic.NewForConfig(env.Cluster("management").Config)
	if err != nil {
		t.Fatal(err)
	}
	vd := unstructuredVD(ns, name, host)
	if _, err := dc.Resource(gvrVirtualDestination).Namespace(ns).Create(ctx, vd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create VirtualDestination: %v", err)
	}
}

// putClusterSecret stores a kubeconfig for cluster (authenticating with
// token) in a cluster Secret in ns of the management cluster, creating or
// updating it.
func putClusterSecret(ctx context.Context, t *testing.T, env *kubeenv.Env, ns, name string, kubeconfig []byte, annotations map[string]string) {
	t.Helper()
	s := clusterSecret(name, kubeconfig, annotations)
	s.Namespace, s.ResourceVersion = ns, ""
	secrets := env.Cluster("management").Clientset().CoreV1().Secrets(ns)
	cur, err := secrets.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = secrets.Create(ctx, s, metav1.CreateOptions{})
	case err == nil:
		s.ResourceVersion = cur.ResourceVersion
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("put Secret %s/%s: %v", ns, name, err)
	}
}

func kubeconfigFor(t *testing.T, env *kubeenv.Env, cluster, token string) []byte {
	t.Helper()
	data, err := env.Cluster(cluster).Kubeconfig(token)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeClustersFile writes a clusters file listing the named clusters of
// env (network = name, region = "<name>-region") and returns its path.
func writeClustersFile(t *testing.T, env *kubeenv.Env, names ...string) string {
	t.Helper()
	content := "clusters:\n"
	for _, n := range names {
		content += fmt.Sprintf("- name: %s\n  kubeconfig: %s\n  network: net-%s\n  locality: {region: %s-region}\n", n, env.Cluster(n).KubeconfigPath, n, n)
	}
	path := filepath.Join(t.TempDir(), "clusters.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
