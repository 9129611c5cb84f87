package nodeagent

import (
	"bufio"
	"context"
	"net"
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
)

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
	readLogs := func(opts *corev1.PodLogOptions, want string) string {
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
			if strings.Contains(last, want) {
				return last
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("GetLogs %+v never showed %s; got:\n%s", opts, want, last)
		return ""
	}
	all := readLogs(&corev1.PodLogOptions{Container: "echo"}, "/after-since")
	if !strings.Contains(all, "/before-since") || !strings.Contains(all, "listening on port 3000") {
		t.Errorf("full log lacks earlier lines:\n%s", all)
	}
	recent := readLogs(&corev1.PodLogOptions{Container: "echo", SinceTime: &since}, "/after-since")
	if strings.Contains(recent, "/before-since") || strings.Contains(recent, "listening on port") {
		t.Errorf("log since %v has earlier lines:\n%s", since, recent)
	}
	// follow streams what is there, then new lines, until the client ends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := client.CoreV1().Pods(ns).GetLogs("logger", &corev1.PodLogOptions{Container: "echo", Follow: true, SinceTime: &since}).Stream(ctx)
	if err != nil {
		t.Fatalf("GetLogs follow: %v", err)
	}
	defer stream.Close()
	lines := bufio.NewScanner(stream)
	if !lines.Scan() || !strings.Contains(lines.Text(), "/after-since") {
		t.Fatalf("follow: first line %q (%v), want the /after-since request", lines.Text(), lines.Err())
	}
	getBody(t, hc, base+"/while-following")
	if !lines.Scan() || !strings.Contains(lines.Text(), "/while-following") {
		t.Fatalf("follow: next line %q (%v), want the /while-following request", lines.Text(), lines.Err())
	}
	tail := int64(1)
	last := readLogs(&corev1.PodLogOptions{Container: "echo", TailLines: &tail, Timestamps: true}, "/while-following")
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
