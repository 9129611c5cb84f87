package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/causeway-dev/causeway/internal/testenv/netns"
)

// EnvRequire set to "1" turns skips for missing privileges into failures.
const EnvRequire = "CAUSEWAY_REQUIRE_E2E"

// Config says which cluster the agent joins and what it may run.
type Config struct {
	// Client is an admin client of the cluster.
	Client kubernetes.Interface
	// NodeName is the Node the agent registers and whose Pods it runs.
	NodeName string
	// Network is the Pod network; its first host address is the node
	// address, Pods get the following ones.
	Network netip.Prefix
	// Images maps an image repository (no tag or digest, e.g.
	// "registry.k8s.io/gateway-api/echo-basic") to the local binary that
	// stands for it.
	Images map[string]string
	// Dir holds volumes, logs and container roots (a t.TempDir()).
	Dir string
}

// Agent is a running node agent.
type Agent struct {
	cfg     Config
	logf    func(string, ...any)
	net     *network
	ctx     context.Context
	cancel  context.CancelFunc
	apiPort int
	readyAt metav1.Time

	mu   sync.Mutex
	pods map[types.UID]*podRuntime
	wg   sync.WaitGroup // pod workers, heartbeat, informer
}

// commands the agent needs from the machine.
var commands = []string{"ip", "nsenter", "mount", "chroot", "setpriv", "sh"}

// Start registers the Node and runs its Pods until t ends; t's cleanup
// stops every Pod process, removes the network and deletes the Node.
func Start(t testing.TB, cfg Config) *Agent {
	t.Helper()
	if cfg.Client == nil || cfg.NodeName == "" || !cfg.Network.IsValid() || cfg.Dir == "" {
		t.Fatalf("nodeagent: Config needs Client, NodeName, Network and Dir (got %+v)", cfg)
	}
	if !cfg.Network.Addr().Is4() || cfg.Network.Bits() > 29 {
		t.Fatalf("nodeagent: Network %s: want an IPv4 prefix of /29 or larger", cfg.Network)
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "the node agent needs root for network and mount namespaces (euid %d)", os.Geteuid())
	}
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			skipOrFail(t, "the node agent needs the %q command: %v", c, err)
		}
	}
	sweepDead(t.Logf)
	if users, _ := netns.SubnetUsers(cfg.Network); users != "" {
		t.Fatalf("nodeagent: network %s is already in use on this machine (%s); another test running?", cfg.Network.Masked(), users)
	}
	nw, err := newNetwork(cfg.Network)
	if err != nil {
		skipOrFail(t, "cannot build the pod network (no privilege for network namespaces or bridges?): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{cfg: cfg, logf: t.Logf, net: nw, ctx: ctx, cancel: cancel, pods: map[types.UID]*podRuntime{}}
	t.Cleanup(func() {
		start := time.Now()
		defer func() { t.Logf("nodeagent %s: stopped in %v", cfg.NodeName, time.Since(start).Round(time.Millisecond)) }()
		for _, err := range a.stop() {
			t.Errorf("nodeagent %s cleanup: %v", cfg.NodeName, err)
		}
	})
	if err := a.serveKubeletAPI(); err != nil {
		t.Fatalf("nodeagent %s: kubelet API: %v", cfg.NodeName, err)
	}
	if err := a.registerNode(ctx); err != nil {
		t.Fatalf("nodeagent %s: %v", cfg.NodeName, err)
	}
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.heartbeat() }()
	if err := a.watchPods(); err != nil {
		t.Fatalf("nodeagent %s: %v", cfg.NodeName, err)
	}
	return a
}

// NodeAddress is the host end of the Pod network (the Node's InternalIP;
// the kubelet API listens on it).
func (a *Agent) NodeAddress() netip.Addr { return a.net.nodeAddr() }

// ContainerPID is the PID of the named container's current process, 0 when
// it does not run.
func (a *Agent) ContainerPID(namespace, pod, container string) int {
	p := a.podByName(namespace, pod)
	if p == nil {
		return 0
	}
	if c := p.container(container); c != nil {
		return c.pid()
	}
	return 0
}

// watchPods runs an informer on the Pods bound to this node.
func (a *Agent) watchPods() error {
	f := informers.NewSharedInformerFactoryWithOptions(a.cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "spec.nodeName=" + a.cfg.NodeName }))
	inf := f.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { a.podChanged(obj) },
		UpdateFunc: func(_, obj any) { a.podChanged(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				a.podGone(pod.UID)
			}
		},
	})
	if err != nil {
		return err
	}
	f.Start(a.ctx.Done())
	syncCtx, cancel := context.WithTimeout(a.ctx, 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		return errors.New("pod informer did not sync within 30s")
	}
	a.wg.Add(1)
	go func() { defer a.wg.Done(); <-a.ctx.Done(); f.Shutdown() }()
	return nil
}

func (a *Agent) podChanged(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || a.ctx.Err() != nil {
		return
	}
	a.mu.Lock()
	p := a.pods[pod.UID]
	if p == nil {
		if pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			p = newPodRuntime(a, pod.DeepCopy())
			a.pods[pod.UID] = p
			a.wg.Add(1)
			go func() { defer a.wg.Done(); p.run() }()
		} else if pod.DeletionTimestamp != nil {
			// Never started here (say, the agent restarted): a kubelet
			// still confirms the deletion.
			a.wg.Add(1)
			go func() { defer a.wg.Done(); a.confirmDeletion(pod) }()
		}
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		p.terminate(pod.DeletionGracePeriodSeconds, true)
	}
}

// podGone handles a Pod deleted outright (grace period 0 or force).
func (a *Agent) podGone(uid types.UID) {
	a.mu.Lock()
	p := a.pods[uid]
	a.mu.Unlock()
	if p != nil {
		p.terminate(nil, false)
	}
}

func (a *Agent) forget(p *podRuntime) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pods[p.uid] == p {
		delete(a.pods, p.uid)
	}
}

func (a *Agent) podByName(namespace, name string) *podRuntime {
	a.mu.Lock()
	defer a.mu.Unlock()
	var found *podRuntime
	for _, p := range a.pods {
		if p.namespace == namespace && p.name == name {
			// A Pod recreated under the same name while the old one is
			// still stopping: the new one is meant.
			if found == nil || found.isTerminating() {
				found = p
			}
		}
	}
	return found
}

// stop ends every Pod (processes by PID), the API server, the heartbeat
// and the informer, deletes the Node and removes the network.
func (a *Agent) stop() []error {
	a.mu.Lock()
	pods := make([]*podRuntime, 0, len(a.pods))
	for _, p := range a.pods {
		pods = append(pods, p)
	}
	a.mu.Unlock()
	for _, p := range pods {
		p.terminate(ptrInt64(0), false)
	}
	for _, p := range pods {
		p.waitDone(15 * time.Second)
	}
	a.cancel()
	var errs []error
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		errs = append(errs, errors.New("agent goroutines still running 20s after stop"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.cfg.Client.CoreV1().Nodes().Delete(ctx, a.cfg.NodeName, metav1.DeleteOptions{}); err != nil {
		a.logf("nodeagent: deleting Node %s: %v", a.cfg.NodeName, err)
	}
	errs = append(errs, a.net.close()...)
	return errs
}

func (a *Agent) podDir(uid types.UID) string { return filepath.Join(a.cfg.Dir, "pods", string(uid)) }

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf(EnvRequire+"=1 but "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

func ptrInt64(v int64) *int64 { return &v }

func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
