package kubeenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// readyTimeout bounds the wait for an apiserver's /readyz. Three starting
// at once on two cores take several seconds each; a minute is ample.
const readyTimeout = 90 * time.Second

// Cluster is one kube-apiserver of an Env.
type Cluster struct {
	Name string
	// Config reaches the apiserver as admin (AdminToken), verifying its
	// certificate. Copy it (rest.CopyConfig) before changing it.
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file with the same server and
	// credentials; its context is named after the cluster.
	KubeconfigPath string

	env  *Env
	port int
	// saPubFile and saKeyFile are the cluster's own service-account
	// signing key pair.
	saPubFile, saKeyFile string
	mu                   sync.Mutex
	proc                 *process
	// controllers are kube-controller-manager and kube-scheduler once
	// StartControllers ran; wantControllers makes Start restart them.
	controllers     []*process
	wantControllers bool
}

// Clientset returns a typed client for the cluster.
func (c *Cluster) Clientset() kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(c.Config)
}

// Kubeconfig returns a kubeconfig for the cluster that authenticates with
// token (AdminToken or AlternateToken).
func (c *Cluster) Kubeconfig(token string) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[c.Name] = &clientcmdapi.Cluster{Server: c.Config.Host, CertificateAuthorityData: c.env.pki.caPEM}
	cfg.AuthInfos[c.Name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[c.Name] = &clientcmdapi.Context{Cluster: c.Name, AuthInfo: c.Name}
	cfg.CurrentContext = c.Name
	return clientcmd.Write(*cfg)
}

// Stop kills the controllers (if started) and the apiserver (SIGKILL, by
// PID) and waits until they are gone; its objects stay in etcd. Stopping a
// stopped cluster does nothing.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	err := errors.Join(c.stopControllers(), c.proc.kill())
	c.proc = nil
	if err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	return nil
}

// Start restarts a stopped apiserver on the same port and etcd prefix, so
// Config and KubeconfigPath keep working and every object is still there,
// and waits for /readyz; then the controllers, if StartControllers had
// started them. Starting a running cluster does nothing.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		return nil
	}
	if err := c.launch(); err != nil {
		return err
	}
	if c.wantControllers {
		return c.launchControllers()
	}
	return nil
}

// Running reports whether the apiserver process is up (not whether it is
// ready).
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc != nil && !c.proc.exited()
}

// first picks a port, writes the kubeconfig and starts the apiserver,
// retrying with another port when the chosen one was taken meanwhile.
func (c *Cluster) first() error {
	dir := filepath.Join(c.env.dir, c.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var err error
	if c.saPubFile, c.saKeyFile, err = writeSAKey(dir); err != nil {
		return fmt.Errorf("cluster %s: service-account key: %w", c.Name, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		if c.port, err = freePort(); err != nil {
			return err
		}
		c.Config = &rest.Config{
			Host:            "https://127.0.0.1:" + strconv.Itoa(c.port),
			BearerToken:     AdminToken,
			TLSClientConfig: rest.TLSClientConfig{CAData: c.env.pki.caPEM},
			// Tests create objects in bursts; client-go's default 5 QPS
			// would make them wait for nothing.
			QPS:   100,
			Burst: 200,
		}
		if err = c.launch(); err == nil {
			break
		}
		if c.proc != nil || !errors.Is(err, errPortInUse) {
			return err
		}
	}
	if err != nil {
		return err
	}
	kc, err := c.Kubeconfig(AdminToken)
	if err != nil {
		return err
	}
	c.KubeconfigPath = filepath.Join(c.env.dir, c.Name+".kubeconfig")
	return os.WriteFile(c.KubeconfigPath, kc, 0o600)
}

var errPortInUse = errors.New("port in use")

// launch starts the process and waits for /readyz; c.mu is held. On
// failure the process is killed and c.proc stays nil.
func (c *Cluster) launch() error {
	e := c.env
	dir := filepath.Join(e.dir, c.Name)
	args := []string{"--etcd-servers", e.etcdURL,
		"--etcd-prefix", "/" + c.Name,
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(c.port),
		"--tls-cert-file", e.pki.certFile,
		"--tls-private-key-file", e.pki.keyFile,
		"--cert-dir", filepath.Join(dir, "certs"),
		"--token-auth-file", filepath.Join(e.dir, "tokens.csv"),
		"--authorization-mode", "AlwaysAllow",
		"--service-account-key-file", c.saPubFile,
		"--service-account-signing-key-file", c.saKeyFile,
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-cluster-ip-range", "10.96.0.0/16",
		// No token controller runs to create the "default" ServiceAccount
		// the plugin insists on, so Pods could not be created with it.
		"--disable-admission-plugins", "ServiceAccount",
		// Saves CPU on a small machine; tests do not need fairness.
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		// The default reconciler would publish 127.0.0.1 as the endpoint of
		// default/kubernetes: a loopback EndpointSlice that no real cluster
		// has and discovery would pick up.
		"--endpoint-reconciler-type", "none",
	}
	args = append(args, e.opts.APIServerArgs...)
	p, err := startProcess("kube-apiserver "+c.Name, filepath.Join(dir, "apiserver.log"), e.bins.APIServer, args...)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	client, err := readyzClient(e.pki.caPEM)
	if err != nil {
		_ = p.kill()
		return err
	}
	err = waitHTTP(p, readyTimeout, func(ctx context.Context) error {
		return getOK(ctx, client, c.Config.Host+"/readyz", AdminToken)
	})
	if err != nil {
		_ = p.kill()
		if p.portInUse() {
			return fmt.Errorf("cluster %s: %w: %w", c.Name, errPortInUse, err)
		}
		return fmt.Errorf("cluster %s (log %s): %w", c.Name, p.logPath, err)
	}
	c.proc = p
	return nil
}

func readyzClient(caPEM []byte) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("bad CA PEM")
	}
	return &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}, nil
}

// waitHTTP polls check every 100 ms until it succeeds, p exits or timeout
// passes; the error carries the tail of p's log.
func waitHTTP(p *process, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	const interval = 100 * time.Millisecond
	attempts := int(timeout / interval)
	var last error
	for i := 0; i < attempts; i++ {
		if p.exited() {
			return fmt.Errorf("%s exited before ready (%v); log tail:\n%s", p.name, p.waitErr, p.logTail(30))
		}
		if last = check(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			i = attempts
		case <-time.After(interval):
		}
	}
	return fmt.Errorf("%s not ready within %v (last: %v); log tail:\n%s", p.name, timeout, last, p.logTail(30))
}

func getOK(ctx context.Context, client *http.Client, url, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return nil
}

// PID is the apiserver's process id, 0 while stopped (the load tool reads
// its memory from /proc).
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return 0
	}
	return c.proc.cmd.Process.Pid
}
