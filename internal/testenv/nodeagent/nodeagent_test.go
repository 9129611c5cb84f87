package nodeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// This package's addresses (see the allocation in the issue-12 design).
var testNetwork = netip.MustParsePrefix("198.18.72.0/22")

const nodeName = "nodeagent-test"

// TestAgent runs one agent against a real apiserver and checks, with real
// echo-basic processes in real namespaces, what a kubelet must do.
func TestAgent(t *testing.T) {
	env := kubeenv.Start(t, "nodeagent")
	client := env.Cluster("nodeagent").Clientset()
	dir := t.TempDir()
	start := time.Now()
	echo := BuildEchoBasic(t, dir)
	t.Logf("echo-basic built in %v", time.Since(start).Round(time.Millisecond))
	envoy := e2eutil.RequireEnvoy(t)
	start = time.Now()
	a := Start(t, Config{
		Client:   client,
		NodeName: nodeName,
		Network:  testNetwork,
		Images: map[string]string{
			"registry.k8s.io/gateway-api/echo-basic": echo,
			"envoyproxy/envoy":                       envoy,
			"docker.io/envoyproxy/envoy":             envoy,
		},
		Dir: dir,
	})
	t.Logf("node agent started in %v", time.Since(start).Round(time.Millisecond))
	if got, want := a.NodeAddress(), netip.MustParseAddr("198.18.72.1"); got != want {
		t.Fatalf("NodeAddress() = %v, want %v", got, want)
	}
	t.Run("node", func(t *testing.T) { testNode(t, client, a) })
	t.Run("pods", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			test func(*testing.T, kubernetes.Interface, *Agent)
		}{
			{"echo", testEcho},
			{"tls-secret-user", testTLSSecretAsUser},
			{"configmap-over-root", testConfigMapOverRoot},
			{"provisioned-envoy", testProvisionedEnvoy},
			{"readiness", testReadiness},
			{"logs", testLogs},
			{"delete", testDelete},
			{"unknown-image", testUnknownImage},
			{"restart", testRestart},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.test(t, client, a)
			})
		}
	})
}

func testNode(t *testing.T, client kubernetes.Interface, a *Agent) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ip string
	for _, addr := range node.Status.Addresses {
		if addr.Type == corev1.NodeInternalIP {
			ip = addr.Address
		}
	}
	if ip != a.NodeAddress().String() {
		t.Errorf("Node InternalIP %q, want %s", ip, a.NodeAddress())
	}
	if p := node.Status.DaemonEndpoints.KubeletEndpoint.Port; p != kubeletPort {
		t.Errorf("Node kubelet port %d, want %d", p, kubeletPort)
	}
	ready := false
	for _, c := range node.Status.Conditions {
		ready = ready || (c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue)
	}
	if !ready {
		t.Errorf("Node not Ready: %+v", node.Status.Conditions)
	}
	if node.Status.Allocatable.Pods().Value() == 0 {
		t.Errorf("Node allocatable pods 0: %v", node.Status.Allocatable)
	}
	lease, err := client.CoordinationV1().Leases("kube-node-lease").Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("node lease: %v", err)
	}
	if lease.Spec.RenewTime == nil || time.Since(lease.Spec.RenewTime.Time) > time.Minute {
		t.Errorf("lease renew time %v is not recent", lease.Spec.RenewTime)
	}
}

// testEcho: Running and Ready with an address from the prefix, answering
// with its own name (env fieldRef) on port 3000.
func testEcho(t *testing.T, client kubernetes.Interface, _ *Agent) {
	ns := createNamespace(t, client, "echo")
	pod := echoPod(ns, "echo-1")
	pod.Spec.Containers[0].ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(3000)}},
		PeriodSeconds: 1,
	}
	createPod(t, client, pod)
	got := waitPod(t, client, ns, "echo-1", 30*time.Second, "Running and Ready", func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	ip, err := netip.ParseAddr(got.Status.PodIP)
	if err != nil || !testNetwork.Contains(ip) || ip == testNetwork.Addr() || ip == testNetwork.Addr().Next() {
		t.Fatalf("pod IP %q: want a Pod address in %s", got.Status.PodIP, testNetwork)
	}
	if got.Status.HostIP != "198.18.72.1" || got.Status.StartTime == nil {
		t.Errorf("hostIP %q, startTime %v", got.Status.HostIP, got.Status.StartTime)
	}
	body := getBody(t, httpClient(), "http://"+net.JoinHostPort(ip.String(), "3000")+"/hello")
	var echoed struct{ Namespace, Pod, Path string }
	if err := json.Unmarshal(body, &echoed); err != nil {
		t.Fatalf("echo answer %s: %v", body, err)
	}
	if echoed.Pod != "echo-1" || echoed.Namespace != ns || echoed.Path != "/hello" {
		t.Errorf("echo-basic answered %+v, want pod echo-1 in namespace %s, path /hello", echoed, ns)
	}
}

// testTLSSecretAsUser: echo-basic as the suite's tls-backend, its key pair
// from a Secret mounted at /etc/secret-volume (items, defaultMode 0400),
// run as user 1000 binding port 80 thanks to the namespaced sysctl, and a
// projected token at /var/run/secrets/causeway that an exec probe (in the
// container, as its user) must find before the Pod is Ready.
func testTLSSecretAsUser(t *testing.T, client kubernetes.Interface, a *Agent) {
	ns := createNamespace(t, client, "tls")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	certPEM, keyPEM := serverCert(t, netip.MustParseAddr("198.18.72.2"))
	if _, err := client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "tls-checks-certificate"},
		Data:       map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "backend"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := echoPod(ns, "tls-backend")
	c := &pod.Spec.Containers[0]
	c.Env = append(c.Env,
		corev1.EnvVar{Name: "TLS_SERVER_CERT", Value: "/etc/secret-volume/crt"},
		corev1.EnvVar{Name: "TLS_SERVER_PRIVKEY", Value: "/etc/secret-volume/key"},
		corev1.EnvVar{Name: "HTTP_PORT", Value: "80"},
	)
	c.VolumeMounts = []corev1.VolumeMount{
		{Name: "secret-volume", MountPath: "/etc/secret-volume"},
		{Name: "token", MountPath: "/var/run/secrets/causeway", ReadOnly: true},
	}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"test", "-s", "/var/run/secrets/causeway/token"}}},
		PeriodSeconds: 1,
	}
	mode := int32(0o400)
	expiry := int64(600)
	uid := int64(1000)
	pod.Spec.ServiceAccountName = "backend"
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsUser:  &uid,
		RunAsGroup: &uid,
		Sysctls:    []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}},
	}
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "secret-volume", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName:  "tls-checks-certificate",
			DefaultMode: &mode,
			Items:       []corev1.KeyToPath{{Key: "tls.crt", Path: "crt"}, {Key: "tls.key", Path: "key"}},
		}}},
		{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
			ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "causeway", ExpirationSeconds: &expiry},
		}}}}},
	}
	createPod(t, client, pod)
	got := waitPod(t, client, ns, "tls-backend", 30*time.Second, "Running and Ready", func(p *corev1.Pod) bool { return running(p) && podReady(p) })
	hc := httpClient()
	for _, url := range []string{
		"https://" + net.JoinHostPort(got.Status.PodIP, "8443") + "/tls",
		"http://" + net.JoinHostPort(got.Status.PodIP, "80") + "/plain",
	} {
		var echoed struct {
			Pod string
			TLS *struct{ Version string }
		}
		body := getBody(t, hc, url)
		if err := json.Unmarshal(body, &echoed); err != nil || echoed.Pod != "tls-backend" {
			t.Errorf("GET %s: %s (%v)", url, body, err)
		}
		if strings.HasPrefix(url, "https:") && echoed.TLS == nil {
			t.Errorf("GET %s: echo-basic saw no TLS: %s", url, body)
		}
	}
	pid := a.ContainerPID(ns, "tls-backend", "echo")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nUid:\t1000\t1000\t1000\t1000\n") {
		t.Errorf("container process %d does not run as uid 1000:\n%s", pid, status)
	}
	for _, p := range []string{"/etc/secret-volume", "/var/run/secrets/causeway"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists on the host: the mount must stay inside the container", p)
		}
	}
}

// testConfigMapOverRoot mounts a ConfigMap at /root, as the suite's
// coredns does for its Corefile: an exec probe in the container must read
// it there, and the host's /root stays untouched.
func testConfigMapOverRoot(t *testing.T, client kubernetes.Interface, _ *Agent) {
	ns := createNamespace(t, client, "corefile")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns"},
		Data:       map[string]string{"Corefile": "foo.bar.com:53 {\n  whoami\n}\n"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := echoPod(ns, "corefile")
	c := &pod.Spec.Containers[0]
	c.VolumeMounts = []corev1.VolumeMount{{Name: "conf", MountPath: "/root"}}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"grep", "-q", "whoami", "/root/Corefile"}}},
		PeriodSeconds: 1,
	}
	mode := int32(0o420)
	pod.Spec.Volumes = []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "coredns"}, DefaultMode: &mode,
	}}}}
	createPod(t, client, pod)
	waitPod(t, client, ns, "corefile", 30*time.Second, "Ready (Corefile readable at /root)", podReady)
	if _, err := os.Stat("/root/Corefile"); err == nil {
		t.Errorf("/root/Corefile exists on the host: the mount must stay inside the container")
	}
}
