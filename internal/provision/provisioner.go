package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// FieldManager owns the fields the provisioner applies.
const FieldManager = "causeway-provisioner"

// Defaults for Options.
const (
	DefaultResync   = time.Minute
	DefaultDebounce = 200 * time.Millisecond
)

// Options configure a Provisioner. Store and Clients are required.
type Options struct {
	Store *model.Store
	// Clients returns a workload cluster's client, nil while it has none.
	Clients func(cluster string) kubernetes.Interface
	Config  Config
	Log     *slog.Logger
	// Resync re-applies every object and removes strays this often, so
	// objects changed or deleted by hand come back; Debounce batches
	// model changes. Zero: the defaults.
	Resync, Debounce time.Duration
}

// Provisioner keeps the provisioned objects of every workload cluster in
// line with the model. Call Lead while holding the status writer's Lease.
type Provisioner struct {
	opts    Options
	log     *slog.Logger
	changes <-chan struct{}
	// applied is the fingerprint of each object as last applied, by
	// cluster/kind/name; unchanged objects are applied again only at a
	// resync.
	applied map[string]string
	// problems logged, so each is logged once while it lasts.
	problems map[string]bool
	// wanted is, by cluster, the object names of the last sync: strays
	// are looked for when it changes (and at every resync).
	wanted map[string]string
	// synced is the snapshot of the last sync that wrote everything.
	synced *model.Snapshot
}

// New checks opts; nothing is contacted until Lead.
func New(opts Options) (*Provisioner, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("provision: Store is required")
	case opts.Clients == nil:
		return nil, errors.New("provision: Clients is required")
	case opts.Config.Namespace == "":
		return nil, errors.New("provision: Config.Namespace is required")
	case opts.Config.XDSAddress == "":
		return nil, errors.New("provision: Config.XDSAddress is required")
	}
	if opts.Resync <= 0 {
		opts.Resync = DefaultResync
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Provisioner{
		opts: opts, log: opts.Log.With("component", "provision"),
		changes: opts.Store.Subscribe(), problems: map[string]bool{},
		applied: map[string]string{}, wanted: map[string]string{},
	}, nil
}

// Lead provisions until ctx ends: at once, after every model change
// (debounced), and every Resync in full.
func (p *Provisioner) Lead(ctx context.Context) {
	p.log.Info("provisioning gateway proxies", "namespace", p.opts.Config.Namespace, "xds", p.opts.Config.XDSAddress)
	p.applied, p.wanted = map[string]string{}, map[string]string{}
	resync := time.NewTicker(p.opts.Resync)
	defer resync.Stop()
	full, retry := true, time.Duration(0)
	for {
		if err := p.Sync(ctx, full); err != nil && ctx.Err() == nil {
			retry = min(max(2*retry, time.Second), 30*time.Second)
			p.log.Warn("provision: some objects not written; retrying", "in", retry, "error", err)
		} else {
			retry = 0
		}
		var again <-chan time.Time
		if retry > 0 {
			again = time.After(retry)
		}
		full = false
		select {
		case <-ctx.Done():
			return
		case <-p.changes:
		case <-again:
			full = true
		case <-resync.C:
			full = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.opts.Debounce):
		}
		for drained := false; !drained; {
			select {
			case <-p.changes:
			default:
				drained = true
			}
		}
	}
}

// plan is what every cluster should hold.
type plan struct {
	// objects by cluster, then object name.
	objects map[string]map[string]*Objects
	// keep names, by cluster, objects left as they are (a Gateway whose
	// class's parameters are invalid keeps its last good proxies).
	keep     map[string]map[string]bool
	problems []string
}

// Plan computes the objects of snap: the Gateways Causeway owns (those
// translator.Statuses reports on) that are Accepted, in each cluster that
// serves them.
func Plan(cfg Config, snap *model.Snapshot) plan {
	pl := plan{objects: map[string]map[string]*Objects{}, keep: map[string]map[string]bool{}}
	for _, st := range translator.Statuses(snap).Gateways {
		gw := snap.Gateway(st.Namespace, st.Name)
		if gw == nil || !accepted(st) {
			continue
		}
		name := ObjectName(gw.Namespace, gw.Name)
		clusters := translator.GatewayClusters(snap, gw)
		params, err := translator.ProvisionParameters(snap, gw)
		if err != nil {
			pl.problems = append(pl.problems, fmt.Sprintf("Gateway %s/%s: not provisioned: %v", gw.Namespace, gw.Name, err))
			for _, c := range clusters {
				set(pl.keep, c, name, true)
			}
			continue
		}
		for _, c := range clusters {
			objs, err := Build(cfg, Target{Gateway: gw, Cluster: c, Params: params})
			if err != nil {
				pl.problems = append(pl.problems, err.Error())
				continue
			}
			set(pl.objects, c, name, objs)
		}
	}
	return pl
}

func set[V any](m map[string]map[string]V, k1, k2 string, v V) {
	if m[k1] == nil {
		m[k1] = map[string]V{}
	}
	m[k1][k2] = v
}

func accepted(st translator.GatewayStatus) bool {
	for _, c := range st.Conditions {
		if c.Type == string(gwv1.GatewayConditionAccepted) {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// Sync brings every reachable cluster in line with the current model;
// full also re-applies unchanged objects and removes strays.
func (p *Provisioner) Sync(ctx context.Context, full bool) error {
	snap := p.opts.Store.Load()
	if snap == nil {
		return nil
	}
	// Endpoints change all the time and provisioning never depends on
	// them: only another shape of the world is worth a plan.
	if _, endpointsOnly := model.EndpointsOnlyDiff(p.synced, snap); !full && endpointsOnly {
		return nil
	}
	p.synced = nil
	pl := Plan(p.opts.Config, snap)
	p.report(pl.problems)
	var errs []error
	for _, c := range snap.Clusters() {
		client := p.opts.Clients(c.Name)
		if client == nil {
			continue // not connected: nothing to do there now
		}
		if err := p.syncCluster(ctx, c.Name, client, pl.objects[c.Name], pl.keep[c.Name], full); err != nil {
			errs = append(errs, fmt.Errorf("cluster %s: %w", c.Name, err))
		}
	}
	if len(errs) == 0 {
		p.synced = snap
	}
	return errors.Join(errs...)
}

func (p *Provisioner) syncCluster(ctx context.Context, cluster string, client kubernetes.Interface, want map[string]*Objects, keep map[string]bool, full bool) error {
	ns := p.opts.Config.Namespace
	var errs []error
	if len(want) > 0 {
		nsObj := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if err := p.apply(ctx, cluster, full, nsObj, func(data []byte) error {
			_, err := client.CoreV1().Namespaces().Patch(ctx, ns, types.ApplyPatchType, data, applyOptions())
			return err
		}); err != nil {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	for name, o := range want {
		// The ServiceAccount and ConfigMap first: the Pods mount them.
		steps := []struct {
			obj   metav1.Object
			patch func([]byte) error
		}{
			{o.ServiceAccount, func(d []byte) error {
				_, err := client.CoreV1().ServiceAccounts(ns).Patch(ctx, name, types.ApplyPatchType, d, applyOptions())
				return err
			}},
			{o.ConfigMap, func(d []byte) error {
				_, err := client.CoreV1().ConfigMaps(ns).Patch(ctx, name, types.ApplyPatchType, d, applyOptions())
				return err
			}},
			{o.Service, func(d []byte) error {
				_, err := client.CoreV1().Services(ns).Patch(ctx, name, types.ApplyPatchType, d, applyOptions())
				return err
			}},
			{o.Deployment, func(d []byte) error {
				_, err := client.AppsV1().Deployments(ns).Patch(ctx, name, types.ApplyPatchType, d, applyOptions())
				return err
			}},
		}
		for _, s := range steps {
			if err := p.apply(ctx, cluster, full, s.obj, s.patch); err != nil {
				errs = append(errs, fmt.Errorf("%T %s/%s: %w", s.obj, ns, name, err))
			}
		}
	}
	names := make([]string, 0, len(want)+len(keep))
	for n := range want {
		names = append(names, n)
	}
	for n := range keep {
		names = append(names, "keep:"+n)
	}
	slices.Sort(names)
	wanted := strings.Join(names, ",")
	if full || p.wanted[cluster] != wanted {
		if err := p.removeStrays(ctx, cluster, client, want, keep); err != nil {
			errs = append(errs, err)
		} else {
			p.wanted[cluster] = wanted
		}
	}
	return errors.Join(errs...)
}

// apply server-side applies obj (without its status) unless it was
// applied unchanged before and this is not a full sync.
func (p *Provisioner) apply(ctx context.Context, cluster string, full bool, obj metav1.Object, patch func([]byte) error) error {
	data, err := applyData(obj)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	fp := hex.EncodeToString(sum[:])
	key := fmt.Sprintf("%s/%T/%s", cluster, obj, obj.GetName())
	if !full && p.applied[key] == fp {
		return nil
	}
	if err := patch(data); err != nil {
		delete(p.applied, key)
		return err
	}
	p.applied[key] = fp
	return nil
}

// applyData is obj as an apply patch: JSON without status (the API
// server's to write) and without the null creationTimestamp.
func applyData(obj metav1.Object) ([]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return json.Marshal(m)
}

func applyOptions() metav1.PatchOptions {
	force := true
	return metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
}

// removeStrays deletes the provisioned objects of the namespace that are
// neither wanted nor kept. Deployments go first, so no Pod outlives its
// configuration.
func (p *Provisioner) removeStrays(ctx context.Context, cluster string, client kubernetes.Interface, want map[string]*Objects, keep map[string]bool) error {
	ns := p.opts.Config.Namespace
	sel := metav1.ListOptions{LabelSelector: ManagedByLabel + "=" + ManagedByValue + "," + AppNameLabel + "=" + AppNameValue}
	stray := func(name string) bool { return want[name] == nil && !keep[name] }
	var errs []error
	del := func(kind, name string, f func() error) {
		if err := f(); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s %s/%s: %w", kind, ns, name, err))
			return
		}
		delete(p.applied, cluster+"/"+kind+"/"+name)
		p.log.Info("provision: removed", "cluster", cluster, "kind", kind, "namespace", ns, "name", name)
	}
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	deps, err := client.AppsV1().Deployments(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("listing Deployments: %w", err)
	}
	for _, o := range deps.Items {
		if stray(o.Name) {
			del("*v1.Deployment", o.Name, func() error { return client.AppsV1().Deployments(ns).Delete(ctx, o.Name, opts) })
		}
	}
	svcs, err := client.CoreV1().Services(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("listing Services: %w", err)
	}
	for _, o := range svcs.Items {
		if stray(o.Name) {
			del("*v1.Service", o.Name, func() error { return client.CoreV1().Services(ns).Delete(ctx, o.Name, opts) })
		}
	}
	cms, err := client.CoreV1().ConfigMaps(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("listing ConfigMaps: %w", err)
	}
	for _, o := range cms.Items {
		if stray(o.Name) {
			del("*v1.ConfigMap", o.Name, func() error { return client.CoreV1().ConfigMaps(ns).Delete(ctx, o.Name, opts) })
		}
	}
	sas, err := client.CoreV1().ServiceAccounts(ns).List(ctx, sel)
	if err != nil {
		return fmt.Errorf("listing ServiceAccounts: %w", err)
	}
	for _, o := range sas.Items {
		if stray(o.Name) {
			del("*v1.ServiceAccount", o.Name, func() error { return client.CoreV1().ServiceAccounts(ns).Delete(ctx, o.Name, opts) })
		}
	}
	return errors.Join(errs...)
}

// report logs each problem once while it lasts.
func (p *Provisioner) report(problems []string) {
	now := make(map[string]bool, len(problems))
	for _, m := range problems {
		now[m] = true
		if !p.problems[m] {
			p.log.Error("provision: Gateway not provisioned", "error", m)
		}
	}
	p.problems = now
}
