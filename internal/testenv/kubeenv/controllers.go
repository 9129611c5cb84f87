package kubeenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// controllersReadyTimeout bounds the wait for a controller's /healthz.
// Both start in a few seconds; on two busy cores a minute is ample.
const controllersReadyTimeout = 60 * time.Second

// controllerNames are the kube-controller-manager controllers a cluster
// without a cloud, volumes or certificate signing needs for workloads:
// Deployments become ReplicaSets and Pods, Services get EndpointSlices,
// namespaces are emptied and deleted, owners' dependents garbage
// collected, ServiceAccounts and kube-root-ca.crt appear in every
// namespace (projected service-account volumes read both), and Nodes whose
// agent stops renewing its Lease turn NotReady. Left out, as not meaningful
// here: the cloud ones (cloud-node-lifecycle, service-lb, node-route),
// node-ipam (the node agent assigns Pod addresses), volumes (persistent
// volumes, attach/detach, expansion, ephemeral volumes), CSR signing and
// approval (no kubelet client certificates), bootstrap tokens, HPA (no
// metrics), resource quota and DRA. Listing them instead of "*" keeps
// the set fixed when a new Kubernetes version adds default controllers.
var controllerNames = []string{
	"clusterrole-aggregation-controller",
	"cronjob-controller",
	"daemonset-controller",
	"deployment-controller",
	"disruption-controller",
	"endpoints-controller",
	"endpointslice-controller",
	"endpointslice-mirroring-controller",
	"garbage-collector-controller",
	"job-controller",
	"namespace-controller",
	"node-lifecycle-controller",
	"pod-garbage-collector-controller",
	"replicaset-controller",
	"replicationcontroller-controller",
	"root-ca-certificate-publisher-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"statefulset-controller",
	"taint-eviction-controller",
	"ttl-after-finished-controller",
	"ttl-controller",
}

// StartControllers starts kube-controller-manager and kube-scheduler
// against the cluster's apiserver and waits until both answer /healthz.
// They run until the cluster stops (Stop, or the Env closing); Start
// restarts them with the apiserver. Starting them when they run does
// nothing. When a binary is missing the error wraps ErrMissingBinary
// (RequireControllers turns that into a skip).
//
// Both use the admin token (AdminToken) through the cluster's kubeconfig
// and no leader election; the controller-manager signs legacy
// service-account token Secrets with the cluster's own key and publishes
// the Env's CA as kube-root-ca.crt. Logs: <Env dir>/<cluster>/
// controller-manager.log and scheduler.log.
func (c *Cluster) StartControllers() error {
	if err := c.env.bins.RequireControllers(); err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return fmt.Errorf("cluster %s: apiserver not running", c.Name)
	}
	c.wantControllers = true
	return c.launchControllers()
}

// RequireControllers is StartControllers for a test: it skips t when the
// binaries are missing (fails it under CAUSEWAY_REQUIRE_E2E=1) and fails t
// on any other error. The controllers outlive t, like the Env they belong
// to.
func (c *Cluster) RequireControllers(t testing.TB) {
	t.Helper()
	start := time.Now()
	err := c.StartControllers()
	if errors.Is(err, ErrMissingBinary) {
		SkipOrFail(t, "%v", err)
	}
	if err != nil {
		t.Fatalf("kubeenv: %v", err)
	}
	t.Logf("kubeenv: cluster %s: controllers ready in %v", c.Name, time.Since(start).Round(time.Millisecond))
}

// ControllersRunning reports whether both controller processes are up.
func (c *Cluster) ControllersRunning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.controllers) == 2 && !c.controllers[0].exited() && !c.controllers[1].exited()
}

// launchControllers starts whichever controller is not running; c.mu is
// held and the apiserver runs. The two start in parallel: each spends
// its first seconds in its own initialisation.
func (c *Cluster) launchControllers() error {
	if len(c.controllers) == 2 {
		return nil
	}
	dir := filepath.Join(c.env.dir, c.Name)
	schedConfig := filepath.Join(dir, "scheduler.yaml")
	// Flags --kubeconfig and --leader-elect are deprecated for the
	// scheduler in favour of its configuration file.
	cfg := fmt.Sprintf("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"+
		"clientConnection:\n  kubeconfig: %q\n  qps: 100\n  burst: 200\nleaderElection:\n  leaderElect: false\n", c.KubeconfigPath)
	if err := os.WriteFile(schedConfig, []byte(cfg), 0o600); err != nil {
		return err
	}
	type result struct {
		p   *process
		err error
	}
	cm, sched := make(chan result, 1), make(chan result, 1)
	go func() {
		p, err := c.startServing("kube-controller-manager", filepath.Join(dir, "controller-manager.log"), c.env.bins.ControllerManager,
			"--kubeconfig", c.KubeconfigPath,
			"--leader-elect=false",
			"--controllers", strings.Join(controllerNames, ","),
			"--service-account-private-key-file", c.saKeyFile,
			"--root-ca-file", filepath.Join(c.env.dir, "ca.crt"),
			// Controllers write many objects at once (a Deployment's Pods,
			// a namespace's deletion); the default 20 QPS only slows tests.
			"--kube-api-qps", "100",
			"--kube-api-burst", "200",
			"--profiling=false",
		)
		cm <- result{p, err}
	}()
	go func() {
		p, err := c.startServing("kube-scheduler", filepath.Join(dir, "scheduler.log"), c.env.bins.Scheduler,
			"--config", schedConfig,
			"--profiling=false",
		)
		sched <- result{p, err}
	}()
	r1, r2 := <-cm, <-sched
	if err := errors.Join(r1.err, r2.err); err != nil {
		for _, r := range []result{r1, r2} {
			if r.p != nil {
				_ = r.p.kill()
			}
		}
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	c.controllers = []*process{r1.p, r2.p}
	return nil
}

// startServing starts a controller binary serving /healthz over HTTPS on
// a free loopback port, with the Env's serving certificate so the check
// verifies it, and waits for /healthz; a port taken meanwhile means
// another try. No --authentication-kubeconfig: /healthz needs none, and
// with one each binary would also watch kube-system's
// extension-apiserver-authentication ConfigMap for nothing (so the logs
// warn that client-certificate authentication won't work; expected).
func (c *Cluster) startServing(name, logPath, bin string, args ...string) (*process, error) {
	e := c.env
	client, err := readyzClient(e.pki.caPEM)
	if err != nil {
		return nil, err
	}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		p, err := startProcess(name+" "+c.Name, logPath, bin, append(args,
			"--bind-address", "127.0.0.1",
			"--secure-port", strconv.Itoa(port),
			"--tls-cert-file", e.pki.certFile,
			"--tls-private-key-file", e.pki.keyFile,
		)...)
		if err != nil {
			return nil, err
		}
		// /healthz is in --authorization-always-allow-paths by default,
		// so no credentials.
		last = waitHTTP(p, controllersReadyTimeout, func(ctx context.Context) error {
			return getOK(ctx, client, "https://127.0.0.1:"+strconv.Itoa(port)+"/healthz", "")
		})
		if last == nil {
			return p, nil
		}
		_ = p.kill()
		if !p.portInUse() {
			break
		}
	}
	return nil, fmt.Errorf("%s (log %s): %w", name, logPath, last)
}

// stopControllers kills both controllers by PID; c.mu is held.
func (c *Cluster) stopControllers() error {
	var errs []error
	for _, p := range c.controllers {
		errs = append(errs, p.kill())
	}
	c.controllers = nil
	return errors.Join(errs...)
}
