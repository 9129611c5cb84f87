package nodeagent

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// maxGrace bounds how long a terminating container gets between SIGTERM
// and SIGKILL, whatever the Pod asks for: tests should not wait 30 s.
const maxGrace = 5 * time.Second

// podRuntime is one Pod on this node: its network namespace, volumes and
// containers. run does the work; terminate asks it to stop.
type podRuntime struct {
	a                     *Agent
	uid                   types.UID
	namespace, name       string
	pod                   *corev1.Pod // as first seen; Pod specs are immutable where it matters
	dir                   string
	ctx                   context.Context // ends when the Pod terminates
	cancel                context.CancelFunc
	done                  chan struct{} // closed once everything is released
	dirty                 chan struct{} // status changed, write it
	startTime             metav1.Time
	containers            []*containerRuntime
	mu                    sync.Mutex
	ip                    netip.Addr
	netns                 string
	terminating           bool
	grace                 time.Duration
	confirm               bool   // delete the Pod object once stopped
	setupErr, setupReason string // volumes or network failed: every container waits with this
	conditions            map[corev1.PodConditionType]conditionSince
}

func newPodRuntime(a *Agent, pod *corev1.Pod) *podRuntime {
	ctx, cancel := context.WithCancel(a.ctx)
	p := &podRuntime{
		a: a, uid: pod.UID, namespace: pod.Namespace, name: pod.Name, pod: pod,
		dir: a.podDir(pod.UID), ctx: ctx, cancel: cancel,
		done: make(chan struct{}), dirty: make(chan struct{}, 1),
		startTime: metav1.Now(),
	}
	for _, c := range pod.Spec.Containers {
		p.containers = append(p.containers, newContainerRuntime(p, c))
	}
	return p
}

func (p *podRuntime) container(name string) *containerRuntime {
	for _, c := range p.containers {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

func (p *podRuntime) markDirty() {
	select {
	case p.dirty <- struct{}{}:
	default:
	}
}

// run sets the Pod up, runs its containers until terminate, then releases
// everything and, for a deleted Pod, confirms the deletion.
func (p *podRuntime) run() {
	defer close(p.done)
	defer p.a.forget(p)
	var statusWG sync.WaitGroup
	statusWG.Add(1)
	go func() { defer statusWG.Done(); p.writeStatusLoop() }()

	var containerWG sync.WaitGroup
	if p.setup() {
		for _, c := range p.containers {
			containerWG.Add(1)
			go func() { defer containerWG.Done(); c.run() }()
		}
	}
	<-p.ctx.Done()
	containerWG.Wait() // each container loop stops its process (SIGTERM, grace, SIGKILL)
	p.mu.Lock()
	ip, ns, confirm := p.ip, p.netns, p.confirm
	p.mu.Unlock()
	if ns != "" {
		p.a.net.removePod(ip, ns)
	}
	_ = os.RemoveAll(filepath.Join(p.dir, "volumes"))
	statusWG.Wait()
	if confirm {
		p.a.confirmDeletion(p.pod)
	}
}

// setup allocates the address and namespace, applies sysctls and writes
// the volumes; on failure the containers wait with the reason.
func (p *podRuntime) setup() bool {
	if n := len(p.pod.Spec.InitContainers); n > 0 {
		p.fail("CreateContainerConfigError", fmt.Sprintf("pod %s/%s: spec.initContainers: %d init containers; this node agent does not run init containers", p.namespace, p.name, n))
		return false
	}
	if p.pod.Spec.HostNetwork {
		p.fail("CreateContainerConfigError", fmt.Sprintf("pod %s/%s: spec.hostNetwork: not supported by this node agent", p.namespace, p.name))
		return false
	}
	ip, ns, err := p.a.net.addPod(p.namespace + "-" + p.name)
	if err != nil {
		p.fail("CreatePodSandboxError", err.Error())
		return false
	}
	p.mu.Lock()
	p.ip, p.netns = ip, ns
	p.mu.Unlock()
	p.markDirty()
	if sc := p.pod.Spec.SecurityContext; sc != nil {
		for _, s := range sc.Sysctls {
			if err := setSysctl(ns, s.Name, s.Value); err != nil {
				p.fail("CreatePodSandboxError", "pod "+p.namespace+"/"+p.name+": "+err.Error())
				return false
			}
		}
	}
	// Secrets and ConfigMaps may be created after the Pod; a kubelet
	// retries too. Bounded by the Pod's life and maxVolumeAttempts.
	var lastErr error
	for attempt := 0; attempt < maxVolumeAttempts; attempt++ {
		if lastErr = p.materializeVolumes(); lastErr == nil {
			p.mu.Lock()
			p.setupErr = ""
			p.mu.Unlock()
			return true
		}
		p.fail("CreateContainerConfigError", lastErr.Error())
		select {
		case <-p.ctx.Done():
			return false
		case <-time.After(volumeRetry):
		}
	}
	return false
}

const (
	maxVolumeAttempts = 150
	volumeRetry       = 2 * time.Second
)

func (p *podRuntime) fail(reason, msg string) {
	p.mu.Lock()
	p.setupReason, p.setupErr = reason, msg
	p.mu.Unlock()
	p.markDirty()
}

// terminate stops the Pod: grace (nil: the Pod's own) bounded by maxGrace;
// confirm deletes the Pod object afterwards (it has a deletionTimestamp).
func (p *podRuntime) terminate(grace *int64, confirm bool) {
	p.mu.Lock()
	if p.terminating {
		p.mu.Unlock()
		return
	}
	p.terminating = true
	p.confirm = confirm
	g := maxGrace
	if grace == nil {
		grace = p.pod.Spec.TerminationGracePeriodSeconds
	}
	if grace != nil && time.Duration(*grace)*time.Second < g {
		g = time.Duration(*grace) * time.Second
	}
	p.grace = g
	p.mu.Unlock()
	p.cancel()
}

func (p *podRuntime) isTerminating() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.terminating
}

func (p *podRuntime) waitDone(d time.Duration) {
	select {
	case <-p.done:
	case <-time.After(d):
		p.a.logf("nodeagent: pod %s/%s still stopping after %v", p.namespace, p.name, d)
	}
}

func (p *podRuntime) graceperiod() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.grace
}

// confirmDeletion deletes the Pod object for good, as a kubelet does once
// its containers are gone: grace 0, only if it is still this Pod (UID).
func (a *Agent) confirmDeletion(pod *corev1.Pod) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	uid := pod.UID
	err := a.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptrInt64(0),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		a.logf("nodeagent: deleting pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}
