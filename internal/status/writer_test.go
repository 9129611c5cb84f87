package status

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// Lease timings for the test: short, so that a takeover is quick, and still
// valid for client-go (retry×1.2 < renew < lease).
const (
	testLease = 4 * time.Second
	testRenew = 3 * time.Second
	testRetry = 500 * time.Millisecond
)

const otherController = gwv1.GatewayController("example.com/other-controller")

// candidate is one Writer running in the test.
type candidate struct {
	w       *Writer
	reg     *prometheus.Registry
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

func startCandidate(t *testing.T, cfg Options, identity string) *candidate {
	t.Helper()
	cfg.Identity = identity
	cfg.Registry = prometheus.NewRegistry()
	cfg.Log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	w, err := NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{w: w, reg: cfg.Registry.(*prometheus.Registry), cancel: cancel, done: make(chan error, 1)}
	go func() { c.done <- w.Run(ctx) }()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels the Writer and waits (bounded) for Run to return; again a
// no-op.
func (c *candidate) stop(t *testing.T) {
	t.Helper()
	if c.stopped {
		return
	}
	c.stopped = true
	c.cancel()
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("%s: Run: %v", c.w.Identity(), err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("%s: Run did not return within 15s of cancel", c.w.Identity())
	}
}

// testWriter sends slog output to t.Log, so it shows with the failing test.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

func (c *candidate) leader() float64 { return gaugeValue(c.reg, "causeway_leader") }

// writes sums causeway_status_writes_total samples whose result is one of
// results (all results when none given).
func (c *candidate) writes(results ...string) float64 {
	mfs, err := c.reg.Gather()
	if err != nil {
		panic(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "causeway_status_writes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := len(results) == 0
			for _, l := range m.GetLabel() {
				for _, r := range results {
					match = match || (l.GetName() == "result" && l.GetValue() == r)
				}
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func gaugeValue(reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// eventually polls cond every 100ms until it returns "" or timeout passes,
// then fails with cond's last explanation.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %s", what, timeout, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWriter(t *testing.T) {
	env := kubeenv.Start(t, "management")
	env.InstallCRDs(t, "management")
	cfg := env.Cluster("management").Config
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kube := kubernetes.NewForConfigOrDie(cfg)
	gw := gwclient.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)

	for _, ns := range []string{"causeway-system", "bookinfo", "gloo-system"} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	vds := dyn.Resource(virtualDestinations).Namespace("bookinfo")
	if _, err := vds.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.causeway.dev/v1alpha1", "kind": "VirtualDestination",
		"metadata": map[string]any{"name": "reviews", "namespace": "bookinfo"},
		"spec": map[string]any{
			"hosts":    []any{"reviews.mesh.internal.com"},
			"ports":    []any{map[string]any{"number": int64(9080), "protocol": "HTTP"}},
			"services": []any{map[string]any{"labels": map[string]any{"app": "reviews"}}},
		},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create VirtualDestination: %v", err)
	}
	if _, err := gw.GatewayV1().GatewayClasses().Create(ctx, &gwv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: "causeway"},
		Spec:       gwv1.GatewayClassSpec{ControllerName: model.DefaultControllerName},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create GatewayClass: %v", err)
	}
	all := gwv1.NamespacesFromAll
	if _, err := gw.GatewayV1().Gateways("gloo-system").Create(ctx, &gwv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "http", Namespace: "gloo-system"},
		Spec: gwv1.GatewaySpec{GatewayClassName: "causeway", Listeners: []gwv1.Listener{{
			Name: "http", Port: 8080, Protocol: gwv1.HTTPProtocolType,
			AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &all}},
		}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Gateway: %v", err)
	}
	gwNS := gwv1.Namespace("gloo-system")
	route := func(name string, backend gwv1.BackendObjectReference) *gwv1.HTTPRoute {
		return &gwv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "bookinfo"},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "http", Namespace: &gwNS}}},
				Rules:           []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: backend}}}}},
			},
		}
	}
	hostGroup, hostKind, port := gwv1.Group("networking.istio.io"), gwv1.Kind("Hostname"), gwv1.PortNumber(9080)
	for _, r := range []*gwv1.HTTPRoute{
		route("reviews", gwv1.BackendObjectReference{Group: &hostGroup, Kind: &hostKind, Name: "reviews.mesh.internal.com", Port: &port}),
		route("broken", gwv1.BackendObjectReference{Name: "ratings", Port: &port}),
	} {
		if _, err := gw.GatewayV1().HTTPRoutes("bookinfo").Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create HTTPRoute %s: %v", r.Name, err)
		}
	}
	// Another controller already reports on reviews: its entry must survive.
	reviews, err := gw.GatewayV1().HTTPRoutes("bookinfo").Get(ctx, "reviews", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	foreign := gwv1.RouteParentStatus{
		ParentRef:      reviews.Spec.ParentRefs[0],
		ControllerName: otherController,
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionFalse, Reason: "NotAllowedByListeners",
			Message: "not mine", LastTransitionTime: metav1.NewTime(time.Unix(1700000000, 0))}},
	}
	reviews.Status.Parents = []gwv1.RouteParentStatus{foreign}
	if reviews, err = gw.GatewayV1().HTTPRoutes("bookinfo").UpdateStatus(ctx, reviews, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("foreign status: %v", err)
	}
	foreign = reviews.Status.Parents[0]

	// The model, as live discovery would publish it: the Gateway API objects
	// as the API server returns them, and reviews in two clusters.
	gateway, err := gw.GatewayV1().Gateways("gloo-system").Get(ctx, "http", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	class, err := gw.GatewayV1().GatewayClasses().Get(ctx, "causeway", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	routes, err := gw.GatewayV1().HTTPRoutes("bookinfo").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// world runs reviews in the given clusters of cluster-1 and cluster-2.
	world := func(reviewsIn ...string) *model.Snapshot {
		w := model.World{
			VirtualDestinations: []model.VirtualDestination{{
				Namespace: "bookinfo", Name: "reviews", Hosts: []string{"reviews.mesh.internal.com"},
				Ports:    []model.VirtualDestinationPort{{Number: 9080, Protocol: "HTTP"}},
				Services: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
			}},
			GatewayClasses: []*model.GatewayClass{class},
			Gateways:       []*model.Gateway{gateway},
		}
		for i := range routes.Items {
			w.HTTPRoutes = append(w.HTTPRoutes, &routes.Items[i])
		}
		for i, c := range []string{"cluster-1", "cluster-2"} {
			w.Clusters = append(w.Clusters, model.Cluster{Name: c, EastWestGateways: []model.GatewayAddress{{Address: fmt.Sprintf("127.0.%d.100", i+1), Port: 15443}}})
		}
		for _, c := range reviewsIn {
			w.Services = append(w.Services, model.Service{Cluster: c, Namespace: "bookinfo", Name: "reviews",
				Labels: map[string]string{"app": "reviews"}, Ports: []model.ServicePort{{Name: "http", Port: 9080}}})
		}
		return model.NewSnapshot(w)
	}
	store := &model.Store{}
	store.Publish(world("cluster-1", "cluster-2"))

	opts := Options{Config: cfg, Store: store, Namespace: "causeway-system", LeaseName: "causeway-status",
		LeaseDuration: testLease, RenewDeadline: testRenew, RetryPeriod: testRetry}
	a := startCandidate(t, opts, "replica-a")
	b := startCandidate(t, opts, "replica-b")

	// Exactly one leads, and the Lease says so.
	var lead, follow *candidate
	eventually(t, 20*time.Second, "a leader", func() string {
		switch {
		case a.leader() == 1 && b.leader() == 1:
			t.Fatal("both replicas lead")
		case a.leader() == 1:
			lead, follow = a, b
		case b.leader() == 1:
			lead, follow = b, a
		default:
			return "no replica leads"
		}
		return ""
	})
	checkLease(ctx, t, kube, lead.w.Identity())

	// Statuses as specified.
	eventually(t, 20*time.Second, "VirtualDestination status", func() string {
		return checkVD(ctx, dyn, "ACCEPTED", 2, []string{"cluster-1", "cluster-2"})
	})
	eventually(t, 20*time.Second, "HTTPRoute statuses", func() string {
		if why := checkRoute(ctx, gw, "reviews", "Accepted=True/Accepted", "ResolvedRefs=True/ResolvedRefs"); why != "" {
			return why
		}
		return checkRoute(ctx, gw, "broken", "Accepted=True/Accepted", "ResolvedRefs=False/BackendNotFound")
	})
	eventually(t, 20*time.Second, "Gateway status", func() string { return checkGateway(ctx, gw, 2) })
	eventually(t, 20*time.Second, "GatewayClass status", func() string {
		c, err := gw.GatewayV1().GatewayClasses().Get(ctx, "causeway", metav1.GetOptions{})
		if err != nil {
			return err.Error()
		}
		if len(c.Status.Conditions) != 1 || c.Status.Conditions[0].Type != "Accepted" || c.Status.Conditions[0].Status != metav1.ConditionTrue ||
			c.Status.Conditions[0].ObservedGeneration != c.Generation {
			return fmt.Sprintf("GatewayClass conditions %+v, want Accepted True of generation %d", c.Status.Conditions, c.Generation)
		}
		if diff := cmp.Diff(translator.SupportedFeatures(), c.Status.SupportedFeatures); diff != "" {
			return "GatewayClass supportedFeatures (-want +got):\n" + diff
		}
		return ""
	})
	got, err := gw.GatewayV1().HTTPRoutes("bookinfo").Get(ctx, "reviews", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(foreign, got.Status.Parents[0]); diff != "" {
		t.Errorf("the other controller's parent entry changed (-want +got):\n%s", diff)
	}
	if n := follow.writes(); n != 0 {
		t.Errorf("%s does not lead but made %v status writes", follow.w.Identity(), n)
	}

	// The same model again: compared, nothing written, nothing moved.
	before := versions(ctx, t, dyn, gw)
	updated, unchanged := lead.writes(resultUpdated), lead.writes(resultUnchanged)
	store.Publish(world("cluster-1", "cluster-2"))
	eventually(t, 10*time.Second, "a sync of the republished model", func() string {
		if lead.writes(resultUnchanged) < unchanged+4 {
			return fmt.Sprintf("%v unchanged results, want at least %v", lead.writes(resultUnchanged), unchanged+4)
		}
		return ""
	})
	if n := lead.writes(resultUpdated); n != updated {
		t.Errorf("republishing the same model wrote %v statuses", n-updated)
	}
	if diff := cmp.Diff(before, versions(ctx, t, dyn, gw)); diff != "" {
		t.Errorf("resourceVersions moved without a change (-before +after):\n%s", diff)
	}

	// The leader stops: the other takes over well within the lease time
	// (the Lease is released on cancel) and finds nothing to rewrite.
	stoppedAt := time.Now()
	lead.stop(t)
	if lead.leader() != 0 {
		t.Errorf("%s: causeway_leader = %v after stopping, want 0", lead.w.Identity(), lead.leader())
	}
	eventually(t, testLease+2*testRetry, "takeover", func() string {
		if follow.leader() != 1 {
			return follow.w.Identity() + " does not lead"
		}
		return ""
	})
	t.Logf("%s took over %v after %s stopped", follow.w.Identity(), time.Since(stoppedAt).Round(time.Millisecond), lead.w.Identity())
	checkLease(ctx, t, kube, follow.w.Identity())
	eventually(t, 10*time.Second, "the new leader's first sync", func() string {
		if n := follow.writes(resultUnchanged); n < 4 {
			return fmt.Sprintf("%v unchanged results, want 4", n)
		}
		return ""
	})
	if n := follow.writes(resultUpdated); n != 0 {
		t.Errorf("the new leader rewrote %v unchanged statuses", n)
	}

	// A model change reaches the status through the new leader.
	oldWrites := lead.writes()
	store.Publish(world("cluster-1"))
	eventually(t, 10*time.Second, "VirtualDestination status after the change", func() string {
		return checkVD(ctx, dyn, "ACCEPTED", 1, []string{"cluster-1"})
	})
	if n := lead.writes(); n != oldWrites {
		t.Errorf("the stopped replica wrote %v more statuses", n-oldWrites)
	}
	if diff := cmp.Diff(before[:3], versions(ctx, t, dyn, gw)[:3]); diff != "" {
		t.Errorf("the change of a VirtualDestination's services rewrote other objects (-before +after):\n%s", diff)
	}

	// A spec change the model has not seen yet: the writer holds the
	// Gateway's status back rather than write the old listeners under the
	// new generation, and writes it once the model has the new spec.
	oldGen := gateway.Generation
	changed, err := gw.GatewayV1().Gateways("gloo-system").Get(ctx, "http", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	changed.Spec.Listeners = append(changed.Spec.Listeners, gwv1.Listener{
		Name: "http-2", Port: 8081, Protocol: gwv1.HTTPProtocolType,
		AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: &all}},
	})
	behind := follow.writes(resultBehind)
	if changed, err = gw.GatewayV1().Gateways("gloo-system").Update(ctx, changed, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update Gateway: %v", err)
	}
	eventually(t, 10*time.Second, "the writer seeing the new generation before the model", func() string {
		if follow.writes(resultBehind) == behind {
			return "no status held back"
		}
		return ""
	})
	if why := checkGatewayGeneration(ctx, gw, oldGen, 1); why != "" {
		t.Errorf("with the model behind: %s", why)
	}
	gateway = changed
	store.Publish(world("cluster-1"))
	eventually(t, 10*time.Second, "the Gateway status of the new generation", func() string {
		return checkGatewayGeneration(ctx, gw, changed.Generation, 2)
	})
}

// checkGatewayGeneration checks that every condition of Gateway
// gloo-system/http, its listeners' included, is of generation gen, and
// that it reports listeners listeners.
func checkGatewayGeneration(ctx context.Context, gw gwclient.Interface, gen int64, listeners int) string {
	g, err := gw.GatewayV1().Gateways("gloo-system").Get(ctx, "http", metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	conds := slices.Clone(g.Status.Conditions)
	for _, l := range g.Status.Listeners {
		conds = append(conds, l.Conditions...)
	}
	for _, c := range conds {
		if c.ObservedGeneration != gen {
			return fmt.Sprintf("condition %s of generation %d, want %d (object at %d)", c.Type, c.ObservedGeneration, gen, g.Generation)
		}
	}
	if len(g.Status.Listeners) != listeners {
		return fmt.Sprintf("%d listeners in status, want %d", len(g.Status.Listeners), listeners)
	}
	return ""
}

func checkLease(ctx context.Context, t *testing.T, kube kubernetes.Interface, want string) {
	t.Helper()
	lease, err := kube.CoordinationV1().Leases("causeway-system").Get(ctx, "causeway-status", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := lease.Spec.HolderIdentity; got == nil || *got != want {
		t.Errorf("Lease holder %v, want %s", got, want)
	}
}

func checkVD(ctx context.Context, dyn dynamic.Interface, state string, services int64, clusters []string) string {
	vd, err := dyn.Resource(virtualDestinations).Namespace("bookinfo").Get(ctx, "reviews", metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	st, _, _ := unstructured.NestedMap(vd.Object, "status")
	gotState, _, _ := unstructured.NestedString(st, "state")
	gotServices, _, _ := unstructured.NestedInt64(st, "selectedServices")
	gotClusters, _, _ := unstructured.NestedStringSlice(st, "clusters")
	gotGen, _, _ := unstructured.NestedInt64(st, "observedGeneration")
	if gotState != state || gotServices != services || !cmp.Equal(gotClusters, clusters) || gotGen != vd.GetGeneration() {
		return fmt.Sprintf("status %v, want state %s, selectedServices %d, clusters %v, observedGeneration %d", st, state, services, clusters, vd.GetGeneration())
	}
	return ""
}

// checkRoute checks Causeway's parent entry of route (one, for Gateway
// gloo-system/http) against conditions summarised as Type=Status/Reason.
func checkRoute(ctx context.Context, gw gwclient.Interface, name string, want ...string) string {
	r, err := gw.GatewayV1().HTTPRoutes("bookinfo").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	var ours []gwv1.RouteParentStatus
	for _, p := range r.Status.Parents {
		if p.ControllerName == model.DefaultControllerName {
			ours = append(ours, p)
		}
	}
	if len(ours) != 1 {
		return fmt.Sprintf("HTTPRoute %s: %d parent entries of %s, want 1", name, len(ours), model.DefaultControllerName)
	}
	var got []string
	for _, c := range ours[0].Conditions {
		if c.ObservedGeneration != r.Generation {
			return fmt.Sprintf("HTTPRoute %s: condition %s observedGeneration %d, want %d", name, c.Type, c.ObservedGeneration, r.Generation)
		}
		got = append(got, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	if !cmp.Equal(got, want) || ours[0].ParentRef.Name != "http" {
		return fmt.Sprintf("HTTPRoute %s: parent %s conditions %v, want %v", name, ours[0].ParentRef.Name, got, want)
	}
	return ""
}

func checkGateway(ctx context.Context, gw gwclient.Interface, attached int32) string {
	g, err := gw.GatewayV1().Gateways("gloo-system").Get(ctx, "http", metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	var got []string
	for _, c := range g.Status.Conditions {
		got = append(got, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	if want := []string{"Accepted=True/Accepted", "Programmed=True/Programmed"}; !cmp.Equal(got, want) {
		return fmt.Sprintf("Gateway conditions %v, want %v", got, want)
	}
	if len(g.Status.Listeners) != 1 || g.Status.Listeners[0].AttachedRoutes != attached || len(g.Status.Listeners[0].SupportedKinds) != 1 {
		return fmt.Sprintf("Gateway listeners %+v, want one with %d attached routes and HTTPRoute supported", g.Status.Listeners, attached)
	}
	return ""
}

// versions are the resourceVersions of the objects the writer touches:
// VirtualDestination, Gateway, and HTTPRoutes broken and reviews.
func versions(ctx context.Context, t *testing.T, dyn dynamic.Interface, gw gwclient.Interface) []string {
	t.Helper()
	vd, err := dyn.Resource(virtualDestinations).Namespace("bookinfo").Get(ctx, "reviews", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gw.GatewayV1().Gateways("gloo-system").Get(ctx, "http", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{g.ResourceVersion}
	for _, name := range []string{"broken", "reviews"} {
		r, err := gw.GatewayV1().HTTPRoutes("bookinfo").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.ResourceVersion)
	}
	return append(out, vd.GetResourceVersion())
}
