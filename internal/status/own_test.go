package status

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/discovery/apiconv"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
)

// ownTestObject is one object of Causeway's kinds in TestWriterOwnKinds.
type ownTestObject struct {
	resource        schema.GroupVersionResource
	namespace, name string
	// conditions wanted, as "Type=Status/Reason".
	conditions []string
	// columns wanted in the API server's Table (kubectl get): name → cell.
	columns map[string]any
}

func (o ownTestObject) client(dyn dynamic.Interface) dynamic.ResourceInterface {
	if o.namespace == "" {
		return dyn.Resource(o.resource)
	}
	return dyn.Resource(o.resource).Namespace(o.namespace)
}

func (o ownTestObject) String() string { return o.resource.Resource + " " + o.namespace + "/" + o.name }

// TestWriterOwnKinds runs two Writers against a real kube-apiserver with one
// object of each of Causeway's kinds (two FailoverPolicies, the newer
// losing): each gets its conditions and observedGeneration from the leader
// only, kubectl's printer columns show them, an unchanged status is not
// rewritten, a spec change moves observedGeneration while keeping
// lastTransitionTime, and a replica without the Lease writes nothing.
func TestWriterOwnKinds(t *testing.T) {
	env := kubeenv.Start(t, "management")
	env.InstallCRDs(t, "management")
	cfg := env.Cluster("management").Config
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kube := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	for _, ns := range []string{"causeway-system", "bookinfo"} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create := func(res schema.GroupVersionResource, kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
		t.Helper()
		meta := map[string]any{"name": name}
		var client dynamic.ResourceInterface = dyn.Resource(res)
		if ns != "" {
			meta["namespace"] = ns
			client = dyn.Resource(res).Namespace(ns)
		}
		obj, err := client.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "networking.causeway.dev/v1alpha1", "kind": kind, "metadata": meta, "spec": spec,
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create %s %s: %v", kind, name, err)
		}
		return obj
	}
	selectReviews := []any{map[string]any{"selector": map[string]any{"name": "reviews"}}}
	mapping := map[string]any{"localityMappings": []any{map[string]any{
		"from": map[string]any{"region": "us-east"}, "to": []any{map[string]any{"region": "us-west"}}}}}
	vd := create(virtualDestinations, "VirtualDestination", "bookinfo", "reviews", map[string]any{
		"hosts":    []any{"reviews.mesh.internal.com"},
		"ports":    []any{map[string]any{"number": int64(9080)}},
		"services": []any{map[string]any{"labels": map[string]any{"app": "reviews"}}},
	})
	es := create(externalServices, "ExternalService", "bookinfo", "db", map[string]any{
		"hosts":     []any{"db.example.com"},
		"ports":     []any{map[string]any{"number": int64(5432), "name": "pg"}},
		"endpoints": []any{map[string]any{"address": "10.0.0.1"}},
	})
	older := create(failoverPolicies, "FailoverPolicy", "bookinfo", "z-older", map[string]any{"applyToDestinations": selectReviews, "config": mapping})
	// creationTimestamps have seconds: the newer must be a second newer,
	// so that it loses although its name sorts first.
	time.Sleep(1100 * time.Millisecond)
	newer := create(failoverPolicies, "FailoverPolicy", "bookinfo", "a-newer", map[string]any{"applyToDestinations": selectReviews, "config": mapping})
	odp := create(outlierPolicies, "OutlierDetectionPolicy", "bookinfo", "eject", map[string]any{"applyToDestinations": selectReviews})
	ws := create(workspaces, "Workspace", "", "mesh", map[string]any{
		"workloadClusters": []any{map[string]any{"name": "*", "namespaces": []any{map[string]any{"name": "*"}}}},
		"importFrom":       []any{map[string]any{"name": "elsewhere"}},
	})

	// The model, as live discovery would publish it from these objects.
	var world model.World
	var vdTyped v1alpha1.VirtualDestination
	convert(t, vd, &vdTyped)
	mvd, errs := apiconv.VirtualDestination(&vdTyped)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	world.VirtualDestinations = append(world.VirtualDestinations, mvd)
	world.Services = []model.Service{{Cluster: "cluster-1", Namespace: "bookinfo", Name: "reviews",
		Labels: map[string]string{"app": "reviews"}, Ports: []model.ServicePort{{Name: "http", Port: 9080}}}}
	world.Clusters = []model.Cluster{{Name: "cluster-1"}}
	esTyped := &v1alpha1.ExternalService{}
	convert(t, es, esTyped)
	world.ExternalServices = append(world.ExternalServices, esTyped)
	for _, o := range []*unstructured.Unstructured{older, newer} {
		fp := &v1alpha1.FailoverPolicy{}
		convert(t, o, fp)
		world.FailoverPolicies = append(world.FailoverPolicies, fp)
	}
	odpTyped := &v1alpha1.OutlierDetectionPolicy{}
	convert(t, odp, odpTyped)
	world.OutlierDetectionPolicies = append(world.OutlierDetectionPolicies, odpTyped)
	var wsTyped v1alpha1.Workspace
	convert(t, ws, &wsTyped)
	mws, errs := apiconv.Workspace(&wsTyped)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	world.Workspaces = append(world.Workspaces, mws)
	store := &model.Store{}
	store.Publish(model.NewSnapshot(world))

	objects := []ownTestObject{
		{virtualDestinations, "bookinfo", "reviews",
			[]string{"Accepted=True/Accepted", "Conflicted=False/NoConflicts", "ResolvedRefs=True/ResolvedRefs"},
			map[string]any{"Accepted": "Accepted", "Backends": "ResolvedRefs", "Services": float64(1), "Message": "selects 1 Service(s) in cluster-1"}},
		{externalServices, "bookinfo", "db",
			[]string{"Accepted=True/Accepted", "Conflicted=False/NoConflicts"},
			map[string]any{"Accepted": "Accepted", "Message": "serves 1 host:port(s) with 1 endpoint(s)"}},
		{failoverPolicies, "bookinfo", "z-older",
			[]string{"Accepted=True/Accepted", "Conflicted=False/NoConflicts"},
			map[string]any{"Accepted": "Accepted", "Attached": float64(1)}},
		{failoverPolicies, "bookinfo", "a-newer",
			[]string{"Accepted=False/Conflicted", "Conflicted=True/Conflicted"},
			map[string]any{"Accepted": "Conflicted", "Attached": nil,
				"Message": "applies to no VirtualDestination: VirtualDestination bookinfo/reviews: the older FailoverPolicy bookinfo/z-older applies (one FailoverPolicy per VirtualDestination)"}},
		{outlierPolicies, "bookinfo", "eject",
			[]string{"Accepted=True/Accepted", "Conflicted=False/NoConflicts"},
			map[string]any{"Accepted": "Accepted", "Attached": float64(1)}},
		{workspaces, "", "mesh",
			[]string{"Accepted=True/Accepted", "Conflicted=False/NoConflicts", "ResolvedRefs=False/NotFound"},
			map[string]any{"Accepted": "Accepted", "Message": "spec.importFrom[0]: no Workspace named elsewhere"}},
	}

	opts := Options{Config: cfg, Store: store, Namespace: "causeway-system", LeaseName: "causeway-status",
		LeaseDuration: testLease, RenewDeadline: testRenew, RetryPeriod: testRetry}
	a := startCandidate(t, opts, "replica-a")
	b := startCandidate(t, opts, "replica-b")
	var lead, follow *candidate
	eventually(t, 20*time.Second, "a leader", func() string {
		switch {
		case a.leader() == 1:
			lead, follow = a, b
		case b.leader() == 1:
			lead, follow = b, a
		default:
			return "no replica leads"
		}
		return ""
	})

	for _, o := range objects {
		eventually(t, 20*time.Second, o.String()+" conditions", func() string { return checkOwnConditions(ctx, dyn, o) })
	}
	// The policy that won lists its destination; the loser none.
	got, err := dyn.Resource(failoverPolicies).Namespace("bookinfo").Get(ctx, "z-older", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	attached, _, _ := unstructured.NestedSlice(got.Object, "status", "attachedTo")
	if want := []any{map[string]any{"namespace": "bookinfo", "name": "reviews"}}; !cmp.Equal(want, attached) {
		t.Errorf("z-older status.attachedTo %v, want %v", attached, want)
	}
	for _, o := range objects {
		checkTable(ctx, t, kube, o)
	}
	if n := follow.writes(); n != 0 {
		t.Errorf("%s does not lead but made %v status writes", follow.w.Identity(), n)
	}

	// The same model again: compared, nothing written, nothing moved.
	before := ownVersions(ctx, t, dyn, objects)
	updated, unchanged := lead.writes(resultUpdated), lead.writes(resultUnchanged)
	store.Publish(model.NewSnapshot(world))
	eventually(t, 10*time.Second, "a sync of the republished model", func() string {
		if n := lead.writes(resultUnchanged); n < unchanged+float64(len(objects)) {
			return fmt.Sprintf("%v unchanged results, want at least %v", n, unchanged+float64(len(objects)))
		}
		return ""
	})
	if n := lead.writes(resultUpdated); n != updated {
		t.Errorf("republishing the same model wrote %v statuses", n-updated)
	}
	if diff := cmp.Diff(before, ownVersions(ctx, t, dyn, objects)); diff != "" {
		t.Errorf("resourceVersions moved without a change (-before +after):\n%s", diff)
	}

	// A spec change: generation 2, observed by status and conditions; the
	// conditions' status did not change, so their lastTransitionTime stays.
	eject := objects[4]
	live, err := eject.client(dyn).Get(ctx, eject.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	transitions := lastTransitions(live)
	// lastTransitionTime has seconds: let one pass, so a reset would show.
	time.Sleep(time.Second)
	if err := unstructured.SetNestedField(live.Object, int64(7), "spec", "config", "consecutiveErrors"); err != nil {
		t.Fatal(err)
	}
	if live, err = eject.client(dyn).Update(ctx, live, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if live.GetGeneration() != 2 {
		t.Fatalf("generation %d after a spec change, want 2", live.GetGeneration())
	}
	eventually(t, 10*time.Second, "observedGeneration 2", func() string { return checkOwnConditions(ctx, dyn, eject) })
	if live, err = eject.client(dyn).Get(ctx, eject.name, metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(transitions, lastTransitions(live)); diff != "" {
		t.Errorf("lastTransitionTime moved although no condition changed status (-before +after):\n%s", diff)
	}
	if n := follow.writes(); n != 0 {
		t.Errorf("%s does not lead but made %v status writes", follow.w.Identity(), n)
	}

	// A replica that never gets the Lease (held by someone else) writes
	// nothing, not even for an object without any status; once the Lease
	// is free it takes over and does.
	a.stop(t)
	b.stop(t)
	late := create(outlierPolicies, "OutlierDetectionPolicy", "bookinfo", "late", map[string]any{"applyToDestinations": selectReviews})
	lateTyped := &v1alpha1.OutlierDetectionPolicy{}
	convert(t, late, lateTyped)
	world.OutlierDetectionPolicies = append(world.OutlierDetectionPolicies, lateTyped)
	store.Publish(model.NewSnapshot(world))
	holdLease(ctx, t, kube, "someone-else")
	c := startCandidate(t, opts, "replica-c")
	lateObj := ownTestObject{resource: outlierPolicies, namespace: "bookinfo", name: "late",
		conditions: []string{"Accepted=False/Conflicted", "Conflicted=True/Conflicted"}}
	time.Sleep(3 * time.Second) // six retry periods, many debounces
	if c.leader() != 0 {
		t.Fatal("replica-c leads although someone else holds the Lease")
	}
	if st, found, _ := unstructured.NestedMap(getObject(ctx, t, dyn, lateObj).Object, "status"); found {
		t.Errorf("a replica not holding the Lease wrote status %v", st)
	}
	if n := c.writes(); n != 0 {
		t.Errorf("replica-c does not lead but made %v status writes", n)
	}
	if err := kube.CoordinationV1().Leases("causeway-system").Delete(ctx, "causeway-status", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "late's conditions from replica-c", func() string { return checkOwnConditions(ctx, dyn, lateObj) })
}

// holdLease makes holder the Lease's holder for an hour, as a replica
// elsewhere would be.
func holdLease(ctx context.Context, t *testing.T, kube kubernetes.Interface, holder string) {
	t.Helper()
	leases := kube.CoordinationV1().Leases("causeway-system")
	lease, err := leases.Get(ctx, "causeway-status", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.NewMicroTime(time.Now())
	hour := int32(3600)
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds = &holder, &hour
	lease.Spec.AcquireTime, lease.Spec.RenewTime = &now, &now
	if _, err := leases.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func getObject(ctx context.Context, t *testing.T, dyn dynamic.Interface, o ownTestObject) *unstructured.Unstructured {
	t.Helper()
	live, err := o.client(dyn).Get(ctx, o.name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return live
}

// convert turns an object read through the dynamic client into its type.
func convert(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatal(err)
	}
}

// checkOwnConditions compares o's conditions ("Type=Status/Reason") with
// the wanted ones, and every observedGeneration with the generation.
func checkOwnConditions(ctx context.Context, dyn dynamic.Interface, o ownTestObject) string {
	live, err := o.client(dyn).Get(ctx, o.name, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	var st v1alpha1.PolicyStatus
	if m, _, _ := unstructured.NestedMap(live.Object, "status"); m != nil {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &st); err != nil {
			return err.Error()
		}
	}
	var got []string
	for _, c := range st.Conditions {
		if c.ObservedGeneration != live.GetGeneration() {
			return fmt.Sprintf("%s: condition %s observedGeneration %d, want %d", o, c.Type, c.ObservedGeneration, live.GetGeneration())
		}
		if c.LastTransitionTime.IsZero() || c.Message == "" {
			return fmt.Sprintf("%s: condition %s without lastTransitionTime or message", o, c.Type)
		}
		got = append(got, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	if !cmp.Equal(got, o.conditions) {
		return fmt.Sprintf("%s: conditions %v, want %v", o, got, o.conditions)
	}
	if gen, _, _ := unstructured.NestedInt64(live.Object, "status", "observedGeneration"); gen != live.GetGeneration() {
		return fmt.Sprintf("%s: status.observedGeneration %d, want %d", o, gen, live.GetGeneration())
	}
	return ""
}

// checkTable reads o as kubectl get does (a Table from the API server) and
// checks the cells of the columns o names: the printer columns of its CRD
// as served.
func checkTable(ctx context.Context, t *testing.T, kube kubernetes.Interface, o ownTestObject) {
	t.Helper()
	path := []string{"/apis", o.resource.Group, o.resource.Version}
	if o.namespace != "" {
		path = append(path, "namespaces", o.namespace)
	}
	raw, err := kube.Discovery().RESTClient().Get().AbsPath(append(path, o.resource.Resource, o.name)...).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatalf("%s as Table: %v", o, err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%s: %d table rows", o, len(table.Rows))
	}
	got := map[string]any{}
	var names []string
	for i, col := range table.ColumnDefinitions {
		names = append(names, col.Name)
		if _, ok := o.columns[col.Name]; ok {
			got[col.Name] = table.Rows[0].Cells[i]
		}
	}
	if diff := cmp.Diff(o.columns, got); diff != "" {
		t.Errorf("%s: printer columns %s: cells (-want +got):\n%s", o, strings.Join(names, ", "), diff)
	}
}

// ownVersions are the resourceVersions of objects, in order.
func ownVersions(ctx context.Context, t *testing.T, dyn dynamic.Interface, objects []ownTestObject) []string {
	t.Helper()
	var out []string
	for _, o := range objects {
		live, err := o.client(dyn).Get(ctx, o.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o.String()+"@"+live.GetResourceVersion())
	}
	return out
}

// lastTransitions maps condition type to lastTransitionTime.
func lastTransitions(u *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		out[fmt.Sprint(m["type"])] = fmt.Sprint(m["lastTransitionTime"])
	}
	return out
}
