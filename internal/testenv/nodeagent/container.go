package nodeagent

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Restart backoff: doubles from backoffStart to backoffMax (a kubelet goes
// from 10 s to 5 min; tests want crashes retried sooner).
const (
	backoffStart = time.Second
	backoffMax   = 20 * time.Second
)

// containerRuntime is one container of a Pod: its process, state and log.
type containerRuntime struct {
	p    *podRuntime
	spec corev1.Container

	mu           sync.Mutex
	state        corev1.ContainerState
	last         corev1.ContainerState
	restarts     int32
	ready        bool
	started      bool
	cmd          *exec.Cmd
	exited       chan struct{} // closed when cmd is reaped
	runs         int           // log files written so far
	logs         []string      // log path per run
	runFinished  chan struct{} // closed when the current run's output is all logged
	probeStopped chan struct{}
}

func newContainerRuntime(p *podRuntime, c corev1.Container) *containerRuntime {
	return &containerRuntime{p: p, spec: c, state: corev1.ContainerState{
		Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"},
	}}
}

func (c *containerRuntime) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil || c.state.Running == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

func (c *containerRuntime) setWaiting(reason, msg string) {
	c.mu.Lock()
	c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	c.mu.Unlock()
	c.p.markDirty()
}

// run starts the container and restarts it per the Pod's restartPolicy
// until the Pod terminates; then stops its process.
func (c *containerRuntime) run() {
	ctx := c.p.ctx
	binary, err := c.p.a.binaryFor(c.spec.Image)
	if err != nil {
		c.setWaiting("ErrImagePull", err.Error())
		return
	}
	backoff := backoffStart
	for ctx.Err() == nil {
		exited, reason, err := c.start(binary)
		if err != nil {
			c.setWaiting(reason, err.Error())
		} else {
			probeDone := make(chan struct{})
			go func() { defer close(probeDone); c.probeLoop(exited) }()
			select {
			case <-exited:
			case <-ctx.Done():
				c.stop()
			}
			<-probeDone
			c.finishRun()
			if ctx.Err() != nil {
				return
			}
		}
		if !c.restartWanted() {
			return
		}
		c.mu.Lock()
		if c.state.Terminated != nil {
			c.last = c.state
			c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason:  "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off %v restarting failed container %s", backoff, c.spec.Name),
			}}
		}
		c.mu.Unlock()
		c.p.markDirty()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, backoffMax)
		c.mu.Lock()
		c.restarts++
		c.mu.Unlock()
	}
}

func (c *containerRuntime) restartWanted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.p.pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return c.state.Terminated == nil || c.state.Terminated.ExitCode != 0
	}
	return true
}

// start launches one run of the container; the returned channel closes
// when the process has been reaped. On failure, reason is the Waiting
// reason a kubelet would give.
func (c *containerRuntime) start(binary string) (<-chan struct{}, string, error) {
	env, err := c.p.containerEnv(c.spec)
	if err != nil {
		return nil, "CreateContainerConfigError", err
	}
	argv, err := containerArgv(c.spec, binary, env)
	if err != nil {
		return nil, "CreateContainerError", err
	}
	exited, err := c.launch(binary, env, argv)
	if err != nil {
		return nil, "RunContainerError", err
	}
	return exited, "", nil
}

func (c *containerRuntime) launch(binary string, env []envVar, argv []string) (<-chan struct{}, error) {
	c.mu.Lock()
	run := c.runs
	c.runs++
	c.mu.Unlock()
	cdir := filepath.Join(c.p.dir, "containers", c.spec.Name)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return nil, err
	}
	script, err := c.p.rootScript(c.spec, filepath.Join(cdir, "root-"+strconv.Itoa(run)), binary)
	if err != nil {
		return nil, err
	}
	log, err := newContainerLog(filepath.Join(cdir, strconv.Itoa(run)+".log"))
	if err != nil {
		return nil, err
	}
	c.p.mu.Lock()
	netns := c.p.netns
	c.p.mu.Unlock()
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + netns, "--", "sh", "-c", script, "container"}, argv...)...)
	cmd.Env = envList(env)
	// A mount namespace of its own (Go makes its mounts private) for the
	// container's root, a UTS namespace for its hostname. Pdeathsig: the
	// container dies with a test binary that died without cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Unshareflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS,
		Setpgid:      true,
		Pdeathsig:    syscall.SIGKILL,
	}
	// Our own pipes, not exec's: the exit is seen when the process ends
	// even if something it started still holds its stdout.
	outR, outW, err := os.Pipe()
	if err != nil {
		log.close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		log.close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		log.close()
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("container %s: start: %w", c.spec.Name, err)
	}
	copied := make(chan struct{})
	go func() {
		var copies sync.WaitGroup
		copies.Add(2)
		go func() { defer copies.Done(); log.copyLines("stdout", outR) }()
		go func() { defer copies.Done(); log.copyLines("stderr", errR) }()
		copies.Wait()
		close(copied)
	}()
	exited := make(chan struct{})
	finished := make(chan struct{})
	started := metav1.Now()
	c.mu.Lock()
	c.cmd, c.exited, c.runFinished = cmd, exited, finished
	c.logs = append(c.logs, log.path)
	if n := len(c.logs); n > 2 {
		// Only the current and the previous run's logs are served.
		_ = os.Remove(c.logs[n-3])
		c.logs = c.logs[n-2:]
	}
	c.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
	c.started = true
	c.ready = c.spec.ReadinessProbe == nil
	c.mu.Unlock()
	c.p.markDirty()
	go func() {
		err := cmd.Wait()
		select {
		case <-copied:
		case <-time.After(2 * time.Second): // a leftover child holds the pipe
		}
		outR.Close()
		errR.Close()
		<-copied
		log.close()
		code, reason := exitStatus(cmd, err)
		c.mu.Lock()
		c.state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: metav1.Now(),
		}}
		c.ready, c.started = false, false
		c.mu.Unlock()
		c.p.markDirty()
		close(exited)
		close(finished)
	}()
	return exited, nil
}

func exitStatus(cmd *exec.Cmd, err error) (int32, string) {
	if err == nil {
		return 0, "Completed"
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal()), "Error"
	}
	if cmd.ProcessState != nil {
		return int32(cmd.ProcessState.ExitCode()), "Error"
	}
	return -1, "Error"
}

// stop sends SIGTERM to the process (by PID), then SIGKILL after the
// Pod's grace period, and waits until it is reaped.
func (c *containerRuntime) stop() {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(c.p.graceperiod()):
	}
	_ = cmd.Process.Kill()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		c.p.a.logf("nodeagent: container %s/%s/%s (pid %d) still running 10s after SIGKILL",
			c.p.namespace, c.p.name, c.spec.Name, cmd.Process.Pid)
	}
}

func (c *containerRuntime) finishRun() {
	c.mu.Lock()
	finished := c.runFinished
	c.mu.Unlock()
	if finished != nil {
		<-finished
	}
}

// logPath is the log of the current run, or of the one before it.
func (c *containerRuntime) logPath(previous bool) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := len(c.logs) - 1
	if previous {
		i--
	}
	if i < 0 {
		return "", false
	}
	return c.logs[i], true
}

// running reports whether the current run is on; its end channel too.
func (c *containerRuntime) current() (bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.Running != nil, c.exited
}
