package kubeenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Tokens in the static token file. Both authenticate as user "admin" in
// group system:masters; AlternateToken lets a test rotate a kubeconfig to
// other, equally valid credentials.
const (
	AdminToken     = "causeway-admin-token"
	AlternateToken = "causeway-admin-token-2"
)

// Env is one etcd and a set of kube-apiservers backed by it.
type Env struct {
	dir      string
	bins     Binaries
	pki      *pki
	etcd     *process
	etcdURL  string
	clusters map[string]*Cluster
	// StartupTime is how long New took, etcd and all apiservers ready.
	StartupTime time.Duration

	opts Options

	crdMu     sync.Mutex
	crdsReady map[string]bool // clusters InstallCRDs completed on
}

// Options tune an Env for many clusters; New uses the zero value.
type Options struct {
	// APIServerArgs are added to every kube-apiserver's command line after
	// kubeenv's own (for example --watch-cache-sizes to shrink caches of
	// resources nobody watches when twenty apiservers share a machine).
	APIServerArgs []string
	// StartParallel bounds how many apiservers start at once (0: all). A
	// starting apiserver needs a few seconds of CPU; twenty at once on two
	// cores can miss the readiness timeout.
	StartParallel int
}

// Start starts an Env with one apiserver per name and stops it when t
// ends. Its files live in t.TempDir(). When the binaries are missing it
// skips t (fails it under CAUSEWAY_REQUIRE_E2E=1).
func Start(t testing.TB, names ...string) *Env {
	t.Helper()
	bins, err := FindBinaries()
	if err != nil {
		SkipOrFail(t, "%v", err)
	}
	env, err := New(t.TempDir(), bins, names...)
	if err != nil {
		t.Fatalf("kubeenv: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			env.logTails(t)
		}
		if err := env.Close(); err != nil {
			t.Errorf("kubeenv: %v", err)
		}
	})
	t.Logf("kubeenv: etcd and %d kube-apiservers %v ready in %v", len(names), names, env.StartupTime.Round(time.Millisecond))
	return env
}

// New starts etcd, then the apiservers in parallel, and returns once every
// one answers /readyz. dir holds data, certificates, logs and kubeconfigs;
// the caller owns it. On error everything started is stopped again.
func New(dir string, bins Binaries, names ...string) (*Env, error) {
	return NewWithOptions(dir, bins, Options{}, names...)
}

// NewWithOptions is New with opts.
func NewWithOptions(dir string, bins Binaries, opts Options, names ...string) (*Env, error) {
	if len(names) == 0 {
		return nil, errors.New("no cluster names")
	}
	if err := checkNames(nil, names); err != nil {
		return nil, err
	}
	start := time.Now()
	e := &Env{dir: dir, bins: bins, opts: opts, clusters: map[string]*Cluster{}, crdsReady: map[string]bool{}}
	var err error
	if e.pki, err = writePKI(dir); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	tokens := fmt.Sprintf("%s,admin,admin,system:masters\n%s,admin,admin,system:masters\n", AdminToken, AlternateToken)
	if err := os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(tokens), 0o600); err != nil {
		return nil, err
	}
	if err := e.startEtcd(); err != nil {
		return nil, err
	}
	if err := e.startClusters(names); err != nil {
		_ = e.Close()
		return nil, err
	}
	e.StartupTime = time.Since(start)
	return e, nil
}

// AddClusters starts more apiservers on the Env's etcd, each under its own
// prefix, and returns once every one answers /readyz. It must not run
// concurrently with other calls on e. On error the clusters it could not
// start are left out; those that started stay (Close stops them).
func (e *Env) AddClusters(names ...string) error {
	if err := checkNames(e.clusters, names); err != nil {
		return err
	}
	return e.startClusters(names)
}

// checkNames rejects names that are not DNS labels (they become etcd
// prefixes, directory and kubeconfig names) or are given twice.
func checkNames(have map[string]*Cluster, names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			return fmt.Errorf("cluster name %q: %s", n, strings.Join(errs, "; "))
		}
		if seen[n] || have[n] != nil {
			return fmt.Errorf("cluster name %q given twice", n)
		}
		seen[n] = true
	}
	return nil
}

// startClusters starts the named apiservers, at most opts.StartParallel at
// once.
func (e *Env) startClusters(names []string) error {
	for _, n := range names {
		e.clusters[n] = &Cluster{Name: n, env: e}
	}
	parallel := e.opts.StartParallel
	if parallel <= 0 {
		parallel = len(names)
	}
	slots := make(chan struct{}, parallel)
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			errs[i] = e.clusters[n].first()
		}()
	}
	wg.Wait()
	for i, n := range names {
		if errs[i] != nil {
			delete(e.clusters, n)
		}
	}
	return errors.Join(errs...)
}

// Cluster returns the named cluster; it panics on a name Start was not
// given, which is a bug in the test.
func (e *Env) Cluster(name string) *Cluster {
	c, ok := e.clusters[name]
	if !ok {
		panic(fmt.Sprintf("kubeenv: no cluster %q (have %v)", name, e.Names()))
	}
	return c
}

// Names lists the clusters, sorted.
func (e *Env) Names() []string {
	var out []string
	for n := range e.clusters {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Dir is the directory holding the Env's files (logs: <name>/apiserver.log
// and etcd.log).
func (e *Env) Dir() string { return e.dir }

// Close kills every apiserver, then etcd, by PID.
func (e *Env) Close() error {
	var errs []error
	for _, c := range e.clusters {
		errs = append(errs, c.Stop())
	}
	if e.etcd != nil {
		errs = append(errs, e.etcd.kill())
	}
	return errors.Join(errs...)
}

func (e *Env) startEtcd() error {
	var last error
	// A few attempts: a port freePort handed out can be taken by someone
	// else before etcd binds it.
	for attempt := 0; attempt < 3; attempt++ {
		client, err := freePort()
		if err != nil {
			return err
		}
		peer, err := freePort()
		if err != nil {
			return err
		}
		clientURL := "http://127.0.0.1:" + strconv.Itoa(client)
		peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
		p, err := startProcess("etcd", filepath.Join(e.dir, "etcd.log"), e.bins.Etcd,
			"--name", "kubeenv",
			"--data-dir", filepath.Join(e.dir, "etcd"),
			"--listen-client-urls", clientURL,
			"--advertise-client-urls", clientURL,
			"--listen-peer-urls", peerURL,
			"--initial-advertise-peer-urls", peerURL,
			"--initial-cluster", "kubeenv="+peerURL,
			"--log-level", "warn",
			// Test data need not survive a power cut; fsync dominates
			// write latency on small CI disks.
			"--unsafe-no-fsync",
		)
		if err != nil {
			return err
		}
		e.etcd, e.etcdURL = p, clientURL
		last = waitHTTP(p, 30*time.Second, func(ctx context.Context) error {
			return getOK(ctx, http.DefaultClient, clientURL+"/health", "")
		})
		if last == nil {
			return nil
		}
		_ = p.kill()
		if !p.portInUse() {
			break
		}
	}
	return fmt.Errorf("etcd: %w", last)
}

// logTails logs the end of every apiserver's log: Start's files vanish with
// t.TempDir, so a failed test keeps what the servers said here.
func (e *Env) logTails(t testing.TB) {
	for _, n := range e.Names() {
		c := e.clusters[n]
		c.mu.Lock()
		if c.proc != nil {
			t.Logf("kubeenv: %s apiserver log tail:\n%s", n, c.proc.logTail(20))
		}
		c.mu.Unlock()
	}
}

// EtcdPID is etcd's process id.
func (e *Env) EtcdPID() int { return e.etcd.cmd.Process.Pid }
