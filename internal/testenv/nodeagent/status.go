package nodeagent

import (
	"context"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// statusResync rewrites the status now and then even without a change,
// in case a write was lost.
const statusResync = 30 * time.Second

// writeStatusLoop writes the Pod status whenever it changed, at most every
// 100 ms, until the Pod is stopped; a terminated Pod gets a last write.
func (p *podRuntime) writeStatusLoop() {
	var last []byte
	for {
		stopped := false
		select {
		case <-p.dirty:
		case <-time.After(statusResync):
			last = nil
		case <-p.ctx.Done():
			stopped = true
		}
		if stopped {
			p.waitContainersStopped()
		}
		status := p.status()
		patch, err := json.Marshal(map[string]any{
			// The UID makes the patch fail on a new Pod of the same name.
			"metadata": map[string]any{"uid": p.uid},
			"status":   status,
		})
		if err == nil && string(patch) != string(last) {
			if err := p.patchStatus(patch); err == nil {
				last = patch
			} else if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && p.ctx.Err() == nil {
				p.a.logf("nodeagent: pod %s/%s status: %v", p.namespace, p.name, err)
			}
		}
		if stopped {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *podRuntime) patchStatus(patch []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := p.a.cfg.Client.CoreV1().Pods(p.namespace).Patch(ctx, p.name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// waitContainersStopped waits (bounded) for the container loops to record
// their processes' ends, so the last status shows them terminated.
func (p *podRuntime) waitContainersStopped() {
	deadline := time.Now().Add(maxGrace + 12*time.Second)
	for _, c := range p.containers {
		for {
			c.mu.Lock()
			running := c.state.Running != nil
			c.mu.Unlock()
			if !running || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// status is the Pod status as a kubelet would report it.
func (p *podRuntime) status() corev1.PodStatus {
	p.mu.Lock()
	ip, setupReason, setupErr := p.ip, p.setupReason, p.setupErr
	p.mu.Unlock()
	node := p.a.NodeAddress().String()
	st := corev1.PodStatus{
		HostIP:    node,
		HostIPs:   []corev1.HostIP{{IP: node}},
		StartTime: &p.startTime,
		QOSClass:  p.pod.Status.QOSClass,
	}
	if ip.IsValid() {
		st.PodIP = ip.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	allReady, anyRunning, allDone, anyFailed := true, false, true, false
	for _, c := range p.containers {
		c.mu.Lock()
		cs := corev1.ContainerStatus{
			Name:                 c.spec.Name,
			Image:                c.spec.Image,
			ImageID:              c.spec.Image,
			State:                c.state,
			LastTerminationState: c.last,
			Ready:                c.ready,
			RestartCount:         c.restarts,
			Started:              ptrBool(c.started),
		}
		if cs.State.Running != nil {
			cs.ContainerID = "causeway://" + string(p.uid) + "/" + c.spec.Name
		}
		c.mu.Unlock()
		if setupErr != "" && cs.State.Running == nil {
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: setupReason, Message: setupErr}}
		}
		allReady = allReady && cs.Ready
		anyRunning = anyRunning || cs.State.Running != nil
		done := cs.State.Terminated != nil && !p.restarts(cs.State.Terminated.ExitCode)
		allDone = allDone && done
		anyFailed = anyFailed || (done && cs.State.Terminated.ExitCode != 0)
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	switch {
	case len(p.containers) > 0 && allDone && anyFailed:
		st.Phase = corev1.PodFailed
	case len(p.containers) > 0 && allDone:
		st.Phase = corev1.PodSucceeded
	case anyRunning || (len(p.containers) > 0 && allRan(st.ContainerStatuses)):
		st.Phase = corev1.PodRunning
	default:
		st.Phase = corev1.PodPending
	}
	now := metav1.Now()
	ready := allReady && st.Phase == corev1.PodRunning && p.ctx.Err() == nil
	st.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		{Type: corev1.ContainersReady, Status: condition(ready)},
		{Type: corev1.PodReady, Status: condition(ready)},
	}
	for i := range st.Conditions {
		st.Conditions[i].LastTransitionTime = p.transitionTime(st.Conditions[i].Type, st.Conditions[i].Status, now)
	}
	return st
}

// restarts says whether restartPolicy restarts a container that exited
// with code.
func (p *podRuntime) restarts(code int32) bool {
	if p.ctx.Err() != nil {
		return false
	}
	switch p.pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	}
	return true
}

// allRan: every container has run at least once (restarting ones count).
func allRan(cs []corev1.ContainerStatus) bool {
	for _, s := range cs {
		if s.RestartCount == 0 && s.State.Running == nil && s.State.Terminated == nil {
			return false
		}
	}
	return true
}

// transitionTime keeps a condition's lastTransitionTime while its status
// stays the same.
func (p *podRuntime) transitionTime(t corev1.PodConditionType, s corev1.ConditionStatus, now metav1.Time) metav1.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conditions == nil {
		p.conditions = map[corev1.PodConditionType]conditionSince{}
	}
	if c, ok := p.conditions[t]; ok && c.status == s {
		return c.since
	}
	p.conditions[t] = conditionSince{status: s, since: now}
	return now
}

type conditionSince struct {
	status corev1.ConditionStatus
	since  metav1.Time
}

func condition(b bool) corev1.ConditionStatus {
	if b {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

func ptrBool(b bool) *bool { return &b }
