package nodeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// A kubelet renews its Lease every 10 s (a quarter of the 40 s duration)
// and reports status at least every 5 min; the node-lifecycle controller
// marks a node whose Lease is older than its grace period (40-50 s)
// unknown. The agent reports both every heartbeatPeriod.
const (
	heartbeatPeriod = 10 * time.Second
	leaseSeconds    = 40
	leaseNamespace  = "kube-node-lease"
)

// Capacity the Node reports: enough for a conformance run's Pods; nothing
// enforces it.
var nodeCapacity = corev1.ResourceList{
	corev1.ResourceCPU:    resource.MustParse("8"),
	corev1.ResourceMemory: resource.MustParse("16Gi"),
	corev1.ResourcePods:   resource.MustParse("110"),
}

// registerNode creates (or takes over) the Node and its Lease.
func (a *Agent) registerNode(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	nodes := a.cfg.Client.CoreV1().Nodes()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: a.cfg.NodeName,
		Labels: map[string]string{
			"kubernetes.io/hostname": a.cfg.NodeName,
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     runtime.GOARCH,
		},
	}}
	if _, err := nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Node %s: %w", a.cfg.NodeName, err)
	}
	if err := a.patchNodeStatus(ctx); err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNamespace}}
	if _, err := a.cfg.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", leaseNamespace, err)
	}
	return a.renewLease(ctx)
}

// patchNodeStatus writes addresses, capacity, daemon endpoint and a fresh
// Ready condition.
func (a *Agent) patchNodeStatus(ctx context.Context) error {
	now := metav1.Now()
	status := corev1.NodeStatus{
		Capacity:    nodeCapacity,
		Allocatable: nodeCapacity,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: a.NodeAddress().String()},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(a.apiPort)}},
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", Message: "causeway test node agent is posting ready status",
			LastHeartbeatTime: now, LastTransitionTime: a.readySince(now),
		}},
		NodeInfo: corev1.NodeSystemInfo{
			OperatingSystem: "linux", Architecture: runtime.GOARCH,
			KubeletVersion: "v1.34.0-causeway-nodeagent", ContainerRuntimeVersion: "causeway-nodeagent://0",
		},
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return err
	}
	_, err = a.cfg.Client.CoreV1().Nodes().Patch(ctx, a.cfg.NodeName, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("Node %s status: %w", a.cfg.NodeName, err)
	}
	return nil
}

// readySince is when the agent first reported Ready.
func (a *Agent) readySince(now metav1.Time) metav1.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.readyAt.IsZero() {
		a.readyAt = now
	}
	return a.readyAt
}

func (a *Agent) renewLease(ctx context.Context) error {
	leases := a.cfg.Client.CoordinationV1().Leases(leaseNamespace)
	now := metav1.NewMicroTime(time.Now())
	holder, duration := a.cfg.NodeName, int32(leaseSeconds)
	l, err := leases.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Namespace: leaseNamespace},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &duration, RenewTime: &now},
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
	} else if err == nil {
		l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &holder, &duration, &now
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("Lease %s/%s: %w", leaseNamespace, a.cfg.NodeName, err)
	}
	return nil
}

// heartbeat renews the Lease and the Ready condition until the agent stops.
func (a *Agent) heartbeat() {
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(heartbeatPeriod):
		}
		ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
		if err := a.renewLease(ctx); err != nil && a.ctx.Err() == nil {
			a.logf("nodeagent: %v", err)
		}
		if err := a.patchNodeStatus(ctx); err != nil && a.ctx.Err() == nil {
			a.logf("nodeagent: %v", err)
		}
		cancel()
	}
}
