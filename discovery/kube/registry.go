package kube

import (
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// registry holds the running workload clusters and brings them in line with
// the configured ones (clusters file + cluster Secrets). It is owned by the
// controller's loop goroutine; only the cluster clients' own goroutines run
// concurrently with it.
type registry struct {
	log *slog.Logger
	// newClient makes a cluster's clientset (fake clientsets in unit tests).
	newClient func(*rest.Config) (kubernetes.Interface, error)
	// kick asks for a world rebuild; kickReconcile for another reconcile
	// (a rotation's new client synced or is late).
	kick, kickReconcile func()
	// rotationTimeout is how long a rotated kubeconfig may take to sync
	// before that is reported as an error (the old client keeps serving).
	rotationTimeout time.Duration
	probeInterval   time.Duration

	// active serves the cluster's objects; pending is a rotated
	// kubeconfig's client that has not synced yet.
	active, pending map[string]*workloadCluster
	// badSecrets remembers the problem last reported per Secret (with its
	// version), so each is logged once.
	badSecrets map[string]string

	stopping sync.WaitGroup
}

func newRegistry(log *slog.Logger, newClient func(*rest.Config) (kubernetes.Interface, error), kick, kickReconcile func(), rotationTimeout time.Duration) *registry {
	return &registry{
		log: log, newClient: newClient, kick: kick, kickReconcile: kickReconcile,
		rotationTimeout: rotationTimeout, probeInterval: defaultProbeInterval,
		active: map[string]*workloadCluster{}, pending: map[string]*workloadCluster{}, badSecrets: map[string]string{},
	}
}

// desired merges the clusters file and the cluster Secrets into the wanted
// clusters. The file wins over Secrets and, among Secrets naming the same
// cluster, the first by namespace/name wins. A Secret that does not parse is
// reported and, if it defines a running cluster, that cluster keeps running
// as it is.
func (r *registry) desired(file []clusterSpec, secrets []*corev1.Secret) map[string]clusterSpec {
	want := map[string]clusterSpec{}
	for _, s := range file {
		want[s.info.Name] = s
	}
	seen := map[string]bool{}
	for _, s := range secrets {
		key := s.Namespace + "/" + s.Name
		seen[key] = true
		name := secretClusterName(s)
		spec, err := specFromSecret(s)
		if err != nil {
			r.reportSecret(s, "cluster Secret not applied; a cluster it already runs keeps its previous settings", err)
			if cur := r.active[name]; cur != nil && cur.spec.source == secretSource(s) {
				if _, taken := want[name]; !taken {
					want[name] = cur.spec
				}
			}
			continue
		}
		if other, taken := want[name]; taken {
			r.reportSecret(s, "cluster Secret ignored: its cluster name is taken", nil, "cluster", name, "definedBy", other.source)
			continue
		}
		delete(r.badSecrets, key)
		want[name] = spec
	}
	for key := range r.badSecrets {
		if !seen[key] {
			delete(r.badSecrets, key)
		}
	}
	return want
}

// reportSecret logs a problem with a Secret once per Secret version.
func (r *registry) reportSecret(s *corev1.Secret, msg string, err error, attrs ...any) {
	key := s.Namespace + "/" + s.Name
	attrs = append([]any{"secret", key}, attrs...)
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	seen := s.ResourceVersion + "\x00" + msg + fmt.Sprint(attrs...)
	if last, ok := r.badSecrets[key]; ok && last == seen {
		return
	}
	r.badSecrets[key] = seen
	r.log.Error(msg, attrs...)
}

// reconcile starts, rotates, updates and stops clusters to match want. It
// reports whether the active set or a cluster's settings changed.
func (r *registry) reconcile(want map[string]clusterSpec) (changed bool) {
	for _, name := range sortedKeys(want) {
		spec := want[name]
		cur := r.active[name]
		switch {
		case cur == nil:
			wc, err := r.startCluster(spec)
			if err != nil {
				r.log.Error("cluster not added", "cluster", name, "source", spec.source, "error", err.Error())
				continue
			}
			r.active[name] = wc
			r.log.Info("cluster added", "cluster", name, "source", spec.source, "server", spec.rest.Host)
			changed = true
		case cur.spec.fingerprint == spec.fingerprint:
			if p := r.pending[name]; p != nil { // rotated back before the new client synced
				r.stopCluster(p)
				delete(r.pending, name)
			}
			if !reflect.DeepEqual(cur.spec.info, spec.info) || cur.spec.source != spec.source {
				cur.spec.info, cur.spec.source = spec.info, spec.source
				r.log.Info("cluster settings updated", "cluster", name, "source", spec.source)
				changed = true
			}
		default:
			if r.rotate(name, spec) {
				changed = true
			}
		}
	}
	for name, cur := range r.active {
		if _, ok := want[name]; !ok {
			r.stopCluster(cur)
			delete(r.active, name)
			r.log.Info("cluster removed", "cluster", name, "source", cur.spec.source)
			changed = true
		}
	}
	for name, p := range r.pending {
		if _, ok := want[name]; !ok {
			r.stopCluster(p)
			delete(r.pending, name)
		}
	}
	return changed
}

// rotate moves a cluster to a new kubeconfig: the new client runs next to the
// old one and replaces it only once its caches synced, so the world never
// misses the cluster's objects. It reports whether the swap happened.
func (r *registry) rotate(name string, spec clusterSpec) bool {
	p := r.pending[name]
	if p != nil && p.spec.fingerprint != spec.fingerprint { // rotated again meanwhile
		r.stopCluster(p)
		p = nil
	}
	if p == nil {
		var err error
		p, err = r.startCluster(spec)
		if err != nil {
			r.log.Error("rotated kubeconfig not used; the previous one keeps serving", "cluster", name, "source", spec.source, "error", err.Error())
			return false
		}
		r.pending[name] = p
		r.log.Info("cluster kubeconfig rotated; syncing the new client before switching", "cluster", name, "source", spec.source, "server", spec.rest.Host)
		time.AfterFunc(r.rotationTimeout, r.kickReconcile)
	}
	p.spec.info, p.spec.source = spec.info, spec.source
	if !p.synced.Load() {
		if !p.rotationWarned && time.Since(p.startedAt) >= r.rotationTimeout {
			p.rotationWarned = true
			r.log.Error("rotated kubeconfig has not synced; the previous one keeps serving", "cluster", name,
				"source", spec.source, "waited", time.Since(p.startedAt).Round(time.Second))
		}
		return false
	}
	old := r.active[name]
	r.active[name] = p
	delete(r.pending, name)
	r.stopCluster(old)
	r.log.Info("cluster switched to the rotated kubeconfig", "cluster", name, "source", spec.source)
	return true
}

func (r *registry) startCluster(spec clusterSpec) (*workloadCluster, error) {
	client, err := r.newClient(spec.rest)
	if err != nil {
		return nil, err
	}
	// Syncing matters to the registry too: a rotation waits for it.
	onSynced := func() { r.kick(); r.kickReconcile() }
	wc, err := newWorkloadCluster(spec, client, r.probeInterval, r.log, r.kick, onSynced)
	if err != nil {
		return nil, err
	}
	wc.start()
	return wc, nil
}

// stopCluster stops a client in the background: a rebuild must not wait on
// a slow connection teardown. stopAll waits for every one.
func (r *registry) stopCluster(wc *workloadCluster) {
	r.stopping.Add(1)
	go func() {
		defer r.stopping.Done()
		wc.stop()
	}()
}

// stopAll stops every client and waits until they are stopped.
func (r *registry) stopAll() {
	for _, wc := range r.active {
		r.stopCluster(wc)
	}
	for _, wc := range r.pending {
		r.stopCluster(wc)
	}
	r.active, r.pending = map[string]*workloadCluster{}, map[string]*workloadCluster{}
	r.stopping.Wait()
}

// clusters returns the active clusters sorted by name.
func (r *registry) clusters() []*workloadCluster {
	out := make([]*workloadCluster, 0, len(r.active))
	for _, name := range sortedKeys(r.active) {
		out = append(out, r.active[name])
	}
	return out
}

// activeClients returns the active clusters' clients by name (a new map,
// safe to hand to other goroutines).
func (r *registry) activeClients() map[string]kubernetes.Interface {
	out := make(map[string]kubernetes.Interface, len(r.active))
	for name, wc := range r.active {
		out[name] = wc.client
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
