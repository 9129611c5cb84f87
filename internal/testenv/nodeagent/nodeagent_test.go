package nodeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// testReadiness: a readiness probe on a port that opens late keeps the Pod
// unready until it opens; one that never opens keeps it unready.
func testReadiness(t *testing.T, client kubernetes.Interface, a *Agent) {
	ns := createNamespace(t, client, "readiness")
	// The late port is the test's own listener on the node address, which
	// the probe targets by host.
	ln, err := net.Listen("tcp", net.JoinHostPort(a.NodeAddress().String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	latePort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	probe := func(host string, port int) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Host: host, Port: intstr.FromInt(port)}},
			PeriodSeconds: 1, FailureThreshold: 1,
		}
	}
	late := echoPod(ns, "late")
	late.Spec.Containers[0].ReadinessProbe = probe(a.NodeAddress().String(), latePort)
	never := echoPod(ns, "never")
	never.Spec.Containers[0].ReadinessProbe = probe("", 9999)
	createPod(t, client, late)
	createPod(t, client, never)
	for _, name := range []string{"late", "never"} {
		waitPod(t, client, ns, name, 30*time.Second, "Running", running)
	}
	time.Sleep(3 * time.Second) // three probe periods
	for _, name := range []string{"late", "never"} {
		p := waitPod(t, client, ns, name, 5*time.Second, "Running", running)
		if podReady(p) || p.Status.ContainerStatuses[0].Ready {
			t.Errorf("pod %s Ready before its probe port opened: %+v", name, p.Status.Conditions)
		}
	}
	ln, err = net.Listen("tcp", net.JoinHostPort(a.NodeAddress().String(), strconv.Itoa(latePort)))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	waitPod(t, client, ns, "late", 15*time.Second, "Ready once its probe port opened", podReady)
	if p := waitPod(t, client, ns, "never", 5*time.Second, "Running", running); podReady(p) {
		t.Errorf("pod never is Ready with nothing on its probe port")
	}
}

// testLogs reads logs through the apiserver (pods/log, which calls the
// agent's kubelet API): SinceTime leaves out earlier lines.
func testLogs(t *testing.T, client kubernetes.Interface, _ *Agent) {
	ns := createNamespace(t, client, "logs")
	createPod(t, client, echoPod(ns, "logger"))
	pod := waitPod(t, client, ns, "logger", 30*time.Second, "Running", running)
	base := "http://" + net.JoinHostPort(pod.Status.PodIP, "3000")
	hc := httpClient()
	getBody(t, hc, base+"/before-since")
	// sinceTime travels with second precision: start a new second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(1100 * time.Millisecond)))
	since := metav1.NewTime(time.Now().Truncate(time.Second))
	getBody(t, hc, base+"/after-since")
	readLogs := func(opts *corev1.PodLogOptions) string {
		t.Helper()
		var last string
		for i := 0; i < 50; i++ { // the line may be a moment behind the answer
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			b, err := client.CoreV1().Pods(ns).GetLogs("logger", opts).DoRaw(ctx)
			cancel()
			if err != nil {
				t.Fatalf("GetLogs %+v: %v", opts, err)
			}
			last = string(b)
			if strings.Contains(last, "/after-since") {
				return last
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("GetLogs %+v never showed /after-since; got:\n%s", opts, last)
		return ""
	}
	all := readLogs(&corev1.PodLogOptions{Container: "echo"})
	if !strings.Contains(all, "/before-since") || !strings.Contains(all, "listening on port 3000") {
		t.Errorf("full log lacks earlier lines:\n%s", all)
	}
	recent := readLogs(&corev1.PodLogOptions{Container: "echo", SinceTime: &since})
	if strings.Contains(recent, "/before-since") || strings.Contains(recent, "listening on port") {
		t.Errorf("log since %v has earlier lines:\n%s", since, recent)
	}
	tail := int64(1)
	last := readLogs(&corev1.PodLogOptions{Container: "echo", TailLines: &tail, Timestamps: true})
	if lines := strings.Split(strings.TrimSpace(last), "\n"); len(lines) != 1 {
		t.Errorf("tailLines 1 gave %d lines:\n%s", len(lines), last)
	} else if _, err := time.Parse(time.RFC3339Nano, strings.Fields(lines[0])[0]); err != nil {
		t.Errorf("timestamps: line %q does not start with one: %v", lines[0], err)
	}
}

// testDelete: deleting a Pod stops its process (SIGTERM), frees its
// namespace and removes the Pod object (the agent confirms the deletion).
func testDelete(t *testing.T, client kubernetes.Interface, a *Agent) {
	ns := createNamespace(t, client, "delete")
	createPod(t, client, echoPod(ns, "doomed"))
	waitPod(t, client, ns, "doomed", 30*time.Second, "Running", running)
	pid := a.ContainerPID(ns, "doomed", "echo")
	if pid == 0 {
		t.Fatal("no PID for a running container")
	}
	netnsName := ""
	if p := a.podByName(ns, "doomed"); p != nil {
		p.mu.Lock()
		netnsName = p.netns
		p.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := client.CoreV1().Pods(ns).Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := client.CoreV1().Pods(ns).Get(ctx, "doomed", metav1.GetOptions{})
		if notFound(err) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("pod still there 30s after delete (last error %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("pod gone %v after delete", time.Since(start).Round(time.Millisecond))
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("container process %d still exists after the pod was deleted", pid)
	}
	if _, err := os.Stat(filepath.Join("/run/netns", netnsName)); netnsName == "" || err == nil {
		t.Errorf("pod network namespace %q still exists", netnsName)
	}
}

// testUnknownImage: an image the agent cannot run leaves the container
// Waiting with ErrImagePull naming the image; nothing runs.
func testUnknownImage(t *testing.T, client kubernetes.Interface, a *Agent) {
	ns := createNamespace(t, client, "unknown")
	pod := echoPod(ns, "mystery")
	pod.Spec.Containers[0].Image = "example.com/mystery/server:1.0"
	createPod(t, client, pod)
	got := waitPod(t, client, ns, "mystery", 30*time.Second, "ErrImagePull", func(p *corev1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "ErrImagePull"
	})
	if msg := got.Status.ContainerStatuses[0].State.Waiting.Message; !strings.Contains(msg, "example.com/mystery/server:1.0") {
		t.Errorf("ErrImagePull message %q does not name the image", msg)
	}
	if got.Status.Phase != corev1.PodPending || podReady(got) {
		t.Errorf("phase %s ready %v, want Pending and not ready", got.Status.Phase, podReady(got))
	}
	if pid := a.ContainerPID(ns, "mystery", "echo"); pid != 0 {
		t.Errorf("a process (%d) runs for an unknown image", pid)
	}
}

// testRestart: a container that exits is restarted (restartPolicy Always)
// with its restart count and last state reported.
func testRestart(t *testing.T, client kubernetes.Interface, _ *Agent) {
	ns := createNamespace(t, client, "restart")
	pod := echoPod(ns, "crasher")
	// echo-basic panics when it cannot listen.
	pod.Spec.Containers[0].Env = append(pod.Spec.Containers[0].Env, corev1.EnvVar{Name: "HTTP_PORT", Value: "not-a-port"})
	createPod(t, client, pod)
	got := waitPod(t, client, ns, "crasher", 30*time.Second, "restarted", func(p *corev1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return len(cs) == 1 && cs[0].RestartCount >= 1 && cs[0].LastTerminationState.Terminated != nil
	})
	if code := got.Status.ContainerStatuses[0].LastTerminationState.Terminated.ExitCode; code == 0 {
		t.Errorf("last termination exit code 0, want a failure")
	}
	// The previous run's log says why it ended.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := client.CoreV1().Pods(ns).GetLogs("crasher", &corev1.PodLogOptions{Container: "echo", Previous: true}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("GetLogs previous: %v", err)
	}
	if !strings.Contains(string(b), "Failed to start listening") {
		t.Errorf("previous run's log lacks echo-basic's panic:\n%s", b)
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
