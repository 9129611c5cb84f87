package nodeagent

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/internal/provision"
)

// testProvisionedEnvoy runs the Pod Causeway provisions for a Gateway (the
// real template from provision.Build: Envoy as uid 101 binding with the
// namespaced sysctl, bootstrap and CA from a ConfigMap at /etc/causeway, a
// projected token) and checks that Envoy stays up as that user and dials
// the xDS address on the node address from its Pod IP.
func testProvisionedEnvoy(t *testing.T, client kubernetes.Interface, a *Agent) {
	ns := createNamespace(t, client, "envoy")
	xds, err := net.Listen("tcp", net.JoinHostPort(a.NodeAddress().String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer xds.Close()
	peers := make(chan string, 16)
	go func() {
		for {
			c, err := xds.Accept()
			if err != nil {
				return
			}
			peers <- c.RemoteAddr().(*net.TCPAddr).IP.String()
			c.Close()
		}
	}()
	caPEM, _ := serverCert(t, a.NodeAddress())
	gw := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: ns},
		Spec: gwv1.GatewaySpec{GatewayClassName: "causeway", Listeners: []gwv1.Listener{
			{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType},
		}},
	}
	objs, err := provision.Build(provision.Config{
		Namespace: ns, XDSAddress: xds.Addr().String(), CAPEM: caPEM,
		ServerName: "causeway-xds", TrustDomain: "causeway.test",
	}, provision.Target{Gateway: gw, Cluster: "nodeagent"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, objs.ServiceAccount, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ConfigMaps(ns).Create(ctx, objs.ConfigMap, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tmpl := objs.Deployment.Spec.Template
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "gw-envoy", Namespace: ns, Labels: tmpl.Labels}, Spec: tmpl.Spec}
	pod.Spec.NodeName = nodeName
	createPod(t, client, pod)
	got := waitPod(t, client, ns, "gw-envoy", 30*time.Second, "Running and Ready", func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	select {
	case peer := <-peers:
		if peer != got.Status.PodIP {
			t.Errorf("xDS connection from %s, want the Pod IP %s", peer, got.Status.PodIP)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Envoy never dialled the xDS address %s", xds.Addr())
	}
	pid := a.ContainerPID(ns, "gw-envoy", pod.Spec.Containers[0].Name)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nUid:\t101\t101\t101\t101\n") {
		t.Errorf("Envoy (pid %d) does not run as uid 101:\n%s", pid, status)
	}
	got = waitPod(t, client, ns, "gw-envoy", 5*time.Second, "Running", running)
	if n := got.Status.ContainerStatuses[0].RestartCount; n != 0 {
		t.Errorf("Envoy restarted %d times; last state %+v", n, got.Status.ContainerStatuses[0].LastTerminationState)
	}
}
