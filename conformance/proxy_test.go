package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/provision"
)

// proxyReadyWithin bounds a provisioned Gateway's way to a ready Envoy:
// provisioning, the Deployment and ReplicaSet controllers, scheduling, the
// node agent starting Envoy, its xDS connection and readiness.
const proxyReadyWithin = 2 * time.Minute

// smokeNamespace holds the Gateway of checkProvisionedProxy.
const smokeNamespace = "conformance-proxy-check"

// checkProvisionedProxy is the heart of the end-to-end run, checked on its
// own before the suite so a failure here is not mistaken for a suite
// failure: a Gateway of the class gets an Envoy Pod that the node agent
// runs as the image's user 101, which connects to serve over TLS xDS with
// its projected service-account token, and answers HTTP at the address the
// load-balancer stand-in gave the Gateway's Service, which serve reports
// in the Gateway's status.
func checkProvisionedProxy(t *testing.T, e *environment) {
	ctx := context.Background()
	gw, err := gwclient.NewForConfig(e.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	createNamespace(t, e.client, smokeNamespace)
	t.Cleanup(func() {
		// The namespace controller deletes the Gateway with it, and the
		// provisioner the proxy; nothing waits for either.
		if err := e.client.CoreV1().Namespaces().Delete(context.Background(), smokeNamespace, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: namespace %s: %v", smokeNamespace, err)
		}
	})
	const name = "proxy-check"
	gateway := &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: smokeNamespace},
		Spec: gwv1.GatewaySpec{
			GatewayClassName: gatewayClassName,
			Listeners:        []gwv1.Listener{{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType}},
		},
	}
	if _, err := gw.GatewayV1().Gateways(smokeNamespace).Create(ctx, gateway, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()

	sel := labels.SelectorFromSet(provision.GatewayLabels(smokeNamespace, name)).String()
	var pod *corev1.Pod
	err = e2eutil.Eventually(proxyReadyWithin, 250*time.Millisecond, func() error {
		pods, err := e.client.CoreV1().Pods(controlNamespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return err
		}
		if len(pods.Items) == 0 {
			return fmt.Errorf("no Pod labelled %s in %s", sel, controlNamespace)
		}
		for i := range pods.Items {
			if podReady(&pods.Items[i]) {
				pod = &pods.Items[i]
				return nil
			}
		}
		return fmt.Errorf("Pod %s not ready: %s", pods.Items[0].Name, podSummary(&pods.Items[0]))
	})
	if err != nil {
		t.Fatalf("provisioned proxy of Gateway %s/%s within %v: %v", smokeNamespace, name, proxyReadyWithin, err)
	}
	t.Logf("provisioned Envoy Pod %s ready (%s) %v after the Gateway was created", pod.Name, pod.Status.PodIP, time.Since(start).Round(time.Millisecond))

	// The container's process starts as root (mounts, chroot) and becomes
	// Envoy as the Pod's user through exec; check the user once it is Envoy.
	var uid int
	if err := e2eutil.Eventually(30*time.Second, 100*time.Millisecond, func() error {
		pid := e.agent.ContainerPID(controlNamespace, pod.Name, "envoy")
		exe, u, err := processIdentity(pid)
		if err != nil {
			return err
		}
		if filepath.Base(exe) != "envoy" {
			return fmt.Errorf("process %d is %s, not Envoy yet", pid, exe)
		}
		uid = u
		return nil
	}); err != nil {
		t.Errorf("Envoy process of %s: %v", pod.Name, err)
	} else if uid != 101 {
		t.Errorf("Envoy process of %s runs as uid %d, want 101 (runAsUser)", pod.Name, uid)
	} else {
		t.Logf("Envoy process of %s runs as uid 101", pod.Name)
	}

	// Connected over TLS with the token: serve counts the stream under
	// the identity the token proved, and nothing was refused.
	connected := `causeway_xds_connected_proxies{cluster="` + clusterName + `",role="gateway"}`
	if err := e2eutil.Eventually(30*time.Second, 250*time.Millisecond, func() error {
		n, err := e.serve.metric(connected)
		if err != nil {
			return err
		}
		if n < 1 {
			return fmt.Errorf("%s = %v", connected, n)
		}
		t.Logf("serve: %s %v (TLS xDS, authenticated by the projected token)", connected, n)
		return nil
	}); err != nil {
		t.Errorf("serve sees no gateway proxy: %v", err)
	}
	if refused := e.serve.nonZero("causeway_xds_auth_failures_total", "causeway_xds_tls_handshake_failures_total"); refused != "" {
		t.Errorf("serve refused proxies:\n%s", refused)
	}

	var addr netip.Addr
	err = e2eutil.Eventually(60*time.Second, 250*time.Millisecond, func() error {
		cur, err := gw.GatewayV1().Gateways(smokeNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !meta.IsStatusConditionTrue(cur.Status.Conditions, string(gwv1.GatewayConditionProgrammed)) {
			return fmt.Errorf("not Programmed: %v", cur.Status.Conditions)
		}
		if len(cur.Status.Addresses) != 1 {
			return fmt.Errorf("addresses %v, want the load balancer's one", cur.Status.Addresses)
		}
		a, err := netip.ParseAddr(cur.Status.Addresses[0].Value)
		if err != nil || !lbPool.Contains(a) {
			return fmt.Errorf("address %q is not from the LB pool %s", cur.Status.Addresses[0].Value, lbPool)
		}
		addr = a
		return nil
	})
	if err != nil {
		t.Fatalf("Gateway %s/%s status: %v", smokeNamespace, name, err)
	}
	// No route is attached: any HTTP answer shows the path LB → Envoy
	// works; Envoy names itself in the server header.
	url := "http://" + netip.AddrPortFrom(addr, 80).String() + "/"
	client := &http.Client{Timeout: 5 * time.Second}
	if err := e2eutil.Eventually(30*time.Second, 250*time.Millisecond, func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if s := resp.Header.Get("Server"); s != "envoy" {
			return fmt.Errorf("GET %s: %s, server %q, want Envoy's answer", url, resp.Status, s)
		}
		t.Logf("GET %s through the load balancer: %s from Envoy", url, resp.Status)
		return nil
	}); err != nil {
		t.Errorf("no answer from the provisioned Envoy: %v", err)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podSummary says where a Pod is stuck: phase, node, container states.
func podSummary(p *corev1.Pod) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase %s, node %q, IP %q", p.Status.Phase, p.Spec.NodeName, p.Status.PodIP)
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			fmt.Fprintf(&b, "; %s: %s", c.Type, c.Message)
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil:
			fmt.Fprintf(&b, "; %s waiting: %s %s", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			fmt.Fprintf(&b, "; %s terminated: %s (exit %d) %s", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode, cs.State.Terminated.Message)
		default:
			fmt.Fprintf(&b, "; %s running, ready %v, restarts %d", cs.Name, cs.Ready, cs.RestartCount)
		}
	}
	return b.String()
}

// processIdentity reads a process's executable and real user ID from
// /proc.
func processIdentity(pid int) (exe string, uid int, err error) {
	if pid == 0 {
		return "", 0, errors.New("not running")
	}
	dir := "/proc/" + strconv.Itoa(pid)
	if exe, err = os.Readlink(dir + "/exe"); err != nil {
		return "", 0, err
	}
	data, err := os.ReadFile(dir + "/status")
	if err != nil {
		return "", 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				uid, err = strconv.Atoi(f[0])
				return exe, uid, err
			}
		}
	}
	return "", 0, fmt.Errorf("no Uid line in %s/status", dir)
}
