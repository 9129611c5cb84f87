package xds

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/google/go-cmp/cmp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// adsOpts vary the ADS test world: the benchmark clusters (c1, c2, c3),
// VirtualDestinations app-0 … app-(apps-1), each backed by one Service per
// cluster with two endpoints, and, unless bare, a Gateway in c1 routing to
// app-0. Each app has its own Services, so changing one app's endpoints
// changes exactly one load assignment.
type adsOpts struct {
	apps  int
	extra map[int]int  // extra ready endpoints of app-i's Service in c1
	drop  map[int]bool // apps left out (Services and VirtualDestination)
	bare  bool         // no Gateway or HTTPRoute (no listeners)
	// outlier applies an OutlierDetectionPolicy to these apps: their
	// clusters change, their load assignments do not.
	outlier []int
}

func adsWorld(o adsOpts) *model.Snapshot {
	spec := benchWorldSpec(o.apps, 2) // built afresh: nothing is shared with earlier worlds
	var w model.World
	w.Clusters = spec.Clusters
	for _, svc := range spec.Services {
		var i int
		fmt.Sscanf(svc.Name, "app-%d", &i)
		if o.drop[i] {
			continue
		}
		if svc.Cluster == "c1" {
			for e := range o.extra[i] {
				svc.Endpoints = append(svc.Endpoints, model.Endpoint{
					Address: fmt.Sprintf("10.9.%d.%d", i, e), Ready: true,
					Ports: []model.EndpointPort{{Name: "http", Port: 8080}},
				})
			}
		}
		w.Services = append(w.Services, svc)
	}
	for i, vd := range spec.VirtualDestinations {
		if !o.drop[i] {
			w.VirtualDestinations = append(w.VirtualDestinations, vd)
		}
	}
	for _, i := range o.outlier {
		w.OutlierDetectionPolicies = append(w.OutlierDetectionPolicies, &model.OutlierDetectionPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("outlier-%d", i)},
			Spec: v1alpha1.OutlierDetectionPolicySpec{ApplyToDestinations: []v1alpha1.DestinationSelector{
				{Selector: v1alpha1.ObjectSelector{Name: fmt.Sprintf("app-%d", i)}},
			}},
		})
	}
	if !o.bare {
		w.GatewayClasses = []*model.GatewayClass{causewayClass()}
		w.Gateways = []*model.Gateway{ingressGateway("ns", "c1")}
		w.HTTPRoutes = []*model.HTTPRoute{hostnameRoute("ns", "app-0", "app-0.mesh.internal", 80)}
	}
	return model.NewSnapshot(w)
}

// adsProxy is the identity adsNode describes.
var adsProxy = model.Proxy{Role: model.RoleGateway, Cluster: "c1", Locality: model.Locality{Region: "r1", Zone: "z1"}, BindAddress: "127.0.1.1", Gateway: model.AllGateways}

func adsNode(id string) *corev3.Node {
	return node(id, adsProxy.Role, adsProxy.Cluster, adsProxy.Locality)
}

// app is the name of app-i's cluster and load assignment.
func app(i int) string {
	return translator.OutboundClusterName(fmt.Sprintf("app-%d.mesh.internal", i), 80)
}

func apps(is ...int) []string {
	out := make([]string, len(is))
	for k, i := range is {
		out[k] = app(i)
	}
	slices.Sort(out)
	return out
}

// startADS starts a server serving adsWorld(o).
func startADS(t *testing.T, o adsOpts) *harness {
	t.Helper()
	h := start(t, Options{Insecure: true})
	h.store.Publish(adsWorld(o))
	return h
}

// published returns the resource versions of typeURL in adsProxy's
// published snapshot (nil while there is none).
func (h *harness) published(typeURL string) map[string]string {
	snap, err := h.srv.cache.GetSnapshot(adsProxy.ClassKey())
	if err != nil {
		return nil
	}
	return snap.GetVersionMap(typeURL)
}

func (h *harness) publishedVersion(typeURL string) string {
	snap, err := h.srv.cache.GetSnapshot(adsProxy.ClassKey())
	if err != nil {
		return ""
	}
	return snap.GetVersion(typeURL)
}

// publishAndWait publishes adsWorld(o) and waits until the assignments of
// the apps in changed differ from before in the class snapshot.
func (h *harness) publishAndWait(o adsOpts, changed ...int) {
	h.t.Helper()
	before := h.published(resource.EndpointType)
	h.store.Publish(adsWorld(o))
	eventually(h.t, fmt.Sprintf("the load assignments of apps %v to change", changed), func() bool {
		now := h.published(resource.EndpointType)
		for _, i := range changed {
			if now[app(i)] == before[app(i)] {
				return false
			}
		}
		return true
	})
}

// resourceNameOf returns the name of the resource in a ("" if it does not decode).
func resourceNameOf(a *anypb.Any) string {
	m, err := a.UnmarshalNew()
	if err != nil {
		return ""
	}
	return cache.GetResourceName(m.(types.Resource))
}

// anyNames returns the sorted resource names of anys.
func anyNames(t *testing.T, anys []*anypb.Any) []string {
	t.Helper()
	out := make([]string, 0, len(anys))
	for _, a := range anys {
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cache.GetResourceName(m.(types.Resource)))
	}
	slices.Sort(out)
	return out
}

func deltaNames(r *discoveryv3.DeltaDiscoveryResponse) []string {
	out := make([]string, 0, len(r.GetResources()))
	for _, res := range r.GetResources() {
		out = append(out, res.GetName())
	}
	slices.Sort(out)
	return out
}

func checkNames(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// sync requests typeURL with names and acknowledges the response.
func (c *sotwClient) sync(typeURL string, names []string) *discoveryv3.DiscoveryResponse {
	c.t.Helper()
	c.send(typeURL, "", "", names, "")
	r := c.expect(typeURL)
	c.ack(r, names)
	return r
}

// ackDelta acknowledges r.
func (c *deltaClient) ackDelta(r *discoveryv3.DeltaDiscoveryResponse) {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()})
}

// expectNone fails if any response arrives within quietFor.
func (c *deltaClient) expectNone() {
	c.t.Helper()
	select {
	case r, ok := <-c.in:
		if ok {
			c.t.Fatalf("unexpected %s response: resources %v, removed %v", r.GetTypeUrl(), deltaNames(r), r.GetRemovedResources())
		}
	case <-time.After(quietFor):
	}
}

// A state-of-the-world endpoint change sends only the changed load
// assignments, re-sends no clusters or listeners, and a proxy that has not
// answered gets nothing more until it does, then the newest version.
func TestSotwEndpointChangeSendsOnlyChangedAssignments(t *testing.T) {
	h := startADS(t, adsOpts{apps: 3})
	c := h.sotw(adsNode("gw-a"))
	all := apps(0, 1, 2)
	c.sync(resource.ClusterType, nil)
	eds := c.sync(resource.EndpointType, all)
	checkNames(t, "initial EDS", anyNames(t, eds.GetResources()), all)
	if lds := c.sync(resource.ListenerType, nil); len(lds.GetResources()) == 0 {
		t.Fatal("the Gateway gave no listeners")
	}

	h.store.Publish(adsWorld(adsOpts{apps: 3, extra: map[int]int{1: 1}}))
	r := c.expect(resource.EndpointType)
	checkNames(t, "EDS after app-1 changed", anyNames(t, r.GetResources()), apps(1))
	if r.GetVersionInfo() == eds.GetVersionInfo() {
		t.Errorf("EDS update kept version %q", r.GetVersionInfo())
	}
	if want := h.publishedVersion(resource.EndpointType); r.GetVersionInfo() != want {
		t.Errorf("EDS version %q, published %q", r.GetVersionInfo(), want)
	}
	if addrs := endpointAddresses(unpack[*endpointv3.ClusterLoadAssignment](t, r.GetResources()), app(1)); !slices.Contains(addrs, "10.9.1.0:8080") {
		t.Errorf("%s endpoints %v lack the new 10.9.1.0:8080", app(1), addrs)
	}
	c.expectNone(resource.ClusterType)
	c.expectNone(resource.ListenerType)

	// r is not answered: two more changes wait for the answer and then go
	// out together, in the newest version.
	h.publishAndWait(adsOpts{apps: 3, extra: map[int]int{0: 1, 1: 1}}, 0)
	h.publishAndWait(adsOpts{apps: 3, extra: map[int]int{0: 1, 1: 1, 2: 2}}, 2)
	c.expectNone(resource.EndpointType)
	c.ack(r, all)
	r2 := c.expect(resource.EndpointType)
	checkNames(t, "EDS after the answer", anyNames(t, r2.GetResources()), apps(0, 2))
	if want := h.publishedVersion(resource.EndpointType); r2.GetVersionInfo() != want {
		t.Errorf("EDS version %q after the answer, want the newest %q", r2.GetVersionInfo(), want)
	}
	c.ack(r2, all)
	c.expectNone(resource.EndpointType)
	c.expectNone(resource.ClusterType)
}

// A NACKed state-of-the-world version is not sent again; the next change
// is, with everything the proxy lacks since the version it last accepted.
func TestSotwNACKedVersionIsNotResent(t *testing.T) {
	for _, tc := range []struct {
		name string
		// nackFirst rejects the first (full) response instead of the first
		// update: the proxy then has nothing, so the next update is full.
		nackFirst bool
		want      []string // the load assignments of the update after the NACK
	}{
		{name: "update rejected", want: apps(0, 1)},
		{name: "first response rejected", nackFirst: true, want: apps(0, 1, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startADS(t, adsOpts{apps: 3})
			c := h.sotw(adsNode("gw-a"))
			all := apps(0, 1, 2)
			c.sync(resource.ClusterType, nil)
			c.send(resource.EndpointType, "", "", all, "")
			rejected := c.expect(resource.EndpointType)
			accepted := ""
			if !tc.nackFirst {
				c.ack(rejected, all)
				accepted = rejected.GetVersionInfo()
				h.store.Publish(adsWorld(adsOpts{apps: 3, extra: map[int]int{0: 1}}))
				rejected = c.expect(resource.EndpointType)
				checkNames(t, "EDS update", anyNames(t, rejected.GetResources()), apps(0))
			}
			c.send(resource.EndpointType, accepted, rejected.GetNonce(), all, "endpoints rejected: test")
			labels := map[string]string{"type": resource.EndpointType}
			eventually(t, "the NACK counter", func() bool { return h.metric("causeway_xds_nacks_total", labels) == 1 })
			c.expectNone(resource.EndpointType)

			h.store.Publish(adsWorld(adsOpts{apps: 3, extra: map[int]int{0: 1, 1: 1}}))
			r := c.expect(resource.EndpointType)
			if r.GetVersionInfo() == rejected.GetVersionInfo() {
				t.Fatalf("re-sent the rejected version %q", r.GetVersionInfo())
			}
			checkNames(t, "EDS after the NACK", anyNames(t, r.GetResources()), tc.want)
			c.ack(r, all)
			c.expectNone(resource.EndpointType)
			if n := h.metric("causeway_xds_nacks_total", labels); n != 1 {
				t.Errorf("NACK counter = %v, want 1", n)
			}
		})
	}
}

// A state-of-the-world request that changes the requested names is
// answered at once, with the same version, with exactly the requested
// resources that exist; one that only reorders them is not answered.
func TestSotwRenamedRequestIsAnsweredAtOnce(t *testing.T) {
	h := startADS(t, adsOpts{apps: 3})
	c := h.sotw(adsNode("gw-a"))
	c.send(resource.EndpointType, "", "", apps(0, 1, 2), "")
	r := c.expect(resource.EndpointType)
	version := r.GetVersionInfo()
	for _, step := range []struct {
		names []string
		want  []string // nil: no response
	}{
		{names: []string{app(0)}, want: apps(0)},
		{names: []string{app(0), "outbound|80||no-such.mesh.internal"}, want: apps(0)},
		{names: []string{app(1), app(0)}, want: apps(0, 1)},
		{names: []string{app(0), app(1)}}, // same names: a plain ACK
		{names: apps(0, 1, 2), want: apps(0, 1, 2)},
		{names: []string{app(2)}, want: apps(2)},
		{names: []string{"*"}, want: apps(0, 1, 2)},
	} {
		c.send(resource.EndpointType, r.GetVersionInfo(), r.GetNonce(), step.names, "")
		if step.want == nil {
			c.expectNone(resource.EndpointType)
			continue
		}
		r = c.expect(resource.EndpointType) // nothing is published meanwhile
		checkNames(t, fmt.Sprintf("response to %v", step.names), anyNames(t, r.GetResources()), step.want)
		if r.GetVersionInfo() != version {
			t.Errorf("response to %v has version %q, want the unchanged %q", step.names, r.GetVersionInfo(), version)
		}
	}
}

// A reconnecting state-of-the-world proxy that names the current version
// gets nothing for that type (and later only what changes); any other
// version gets the full set.
func TestSotwReconnectWithVersion(t *testing.T) {
	h := startADS(t, adsOpts{apps: 3})
	first := h.sotw(adsNode("gw-first"))
	all := apps(0, 1, 2)
	oldCDS := first.sync(resource.ClusterType, nil).GetVersionInfo()
	oldEDS := first.sync(resource.EndpointType, all).GetVersionInfo()
	extra := 1
	h.publishAndWait(adsOpts{apps: 3, extra: map[int]int{0: extra}}, 0)
	first.ack(first.expect(resource.EndpointType), all)

	for i, tc := range []struct {
		name    string
		typeURL string
		names   []string
		version func() string
		full    bool
	}{
		{"EDS current version", resource.EndpointType, all, func() string { return h.publishedVersion(resource.EndpointType) }, false},
		{"EDS older version", resource.EndpointType, all, func() string { return oldEDS }, true},
		{"EDS no version", resource.EndpointType, all, func() string { return "" }, true},
		{"EDS unknown version", resource.EndpointType, all, func() string { return "not-a-version" }, true},
		{"CDS current version", resource.ClusterType, nil, func() string { return h.publishedVersion(resource.ClusterType) }, false},
		{"CDS other version", resource.ClusterType, nil, func() string { return oldCDS + "x" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.sotw(adsNode(fmt.Sprintf("gw-%d", i)))
			defer c.close()
			version := tc.version()
			c.send(tc.typeURL, version, "", tc.names, "")
			if !tc.full {
				c.expectNone(tc.typeURL)
				if tc.typeURL != resource.EndpointType {
					return
				}
				// It counts as having the current version: a change sends
				// only the changed assignment.
				extra++
				h.store.Publish(adsWorld(adsOpts{apps: 3, extra: map[int]int{0: extra}}))
				r := c.expect(tc.typeURL)
				checkNames(t, "EDS after a change", anyNames(t, r.GetResources()), apps(0))
				first.ack(first.expect(resource.EndpointType), all)
				return
			}
			r := c.expect(tc.typeURL)
			want := slices.Sorted(maps.Keys(h.published(tc.typeURL)))
			checkNames(t, "response", anyNames(t, r.GetResources()), want)
			if r.GetVersionInfo() != h.publishedVersion(tc.typeURL) {
				t.Errorf("version %q, want %q", r.GetVersionInfo(), h.publishedVersion(tc.typeURL))
			}
		})
	}
}

// Delta with named load assignments: changes send only the changed one,
// unsubscribed names get nothing, a resubscribed name is sent at once, and
// a removed one is reported removed.
func TestDeltaNamedEndpoints(t *testing.T) {
	h := startADS(t, adsOpts{apps: 3})
	d := h.delta(adsNode("gw-d"))
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: apps(0, 1)})
	r := d.expect(resource.EndpointType)
	checkNames(t, "first response", deltaNames(r), apps(0, 1))
	d.ackDelta(r)

	h.store.Publish(adsWorld(adsOpts{apps: 3, extra: map[int]int{0: 1}}))
	r = d.expect(resource.EndpointType)
	checkNames(t, "after app-0 changed", deltaNames(r), apps(0))
	checkNames(t, "removed after app-0 changed", r.GetRemovedResources(), nil)
	d.ackDelta(r)

	// Unsubscribed: no answer, and its changes are not sent.
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesUnsubscribe: apps(1)})
	d.expectNone()
	h.publishAndWait(adsOpts{apps: 3, extra: map[int]int{0: 1, 1: 1}}, 1)
	d.expectNone()

	// Resubscribed: sent at once, in its current version.
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: apps(1)})
	r = d.expect(resource.EndpointType)
	checkNames(t, "after resubscribing app-1", deltaNames(r), apps(1))
	if got, want := r.GetResources()[0].GetVersion(), h.published(resource.EndpointType)[app(1)]; got != want {
		t.Errorf("resubscribed %s version %q, published %q", app(1), got, want)
	}
	d.ackDelta(r)
	d.expectNone()

	// Unsubscribed and resubscribed without a change in between: sent
	// again (the proxy may have dropped it).
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesUnsubscribe: apps(1)})
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: apps(1)})
	r = d.expect(resource.EndpointType)
	checkNames(t, "after resubscribing unchanged app-1", deltaNames(r), apps(1))
	d.ackDelta(r)

	// app-0's VirtualDestination goes: its assignment is removed.
	h.store.Publish(adsWorld(adsOpts{apps: 3, extra: map[int]int{0: 1, 1: 1}, drop: map[int]bool{0: true}}))
	r = d.expect(resource.EndpointType)
	checkNames(t, "removed after app-0 went", r.GetRemovedResources(), apps(0))
	checkNames(t, "resources after app-0 went", deltaNames(r), nil)
	d.ackDelta(r)
	d.expectNone()
}

// A delta subscription to a resource that does not exist is answered with
// it in removed_resources, on the first request and later, so the proxy
// does not wait for its initial fetch timeout.
func TestDeltaSubscriptionToMissingResource(t *testing.T) {
	h := startADS(t, adsOpts{apps: 2})
	d := h.delta(adsNode("gw-d"))
	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: append(apps(0), app(7))})
	r := d.expect(resource.EndpointType)
	checkNames(t, "first response", deltaNames(r), apps(0))
	checkNames(t, "first response removed", r.GetRemovedResources(), []string{app(7)})
	d.ackDelta(r)

	d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: []string{app(8)}})
	r = d.expect(resource.EndpointType)
	checkNames(t, "later subscription", deltaNames(r), nil)
	checkNames(t, "later subscription removed", r.GetRemovedResources(), []string{app(8)})
	d.ackDelta(r)
	d.expectNone()
}

// A new delta stream's initial_resource_versions: resources it claims in
// their current version are not sent, claimed names that do not exist are
// reported removed, and a later change is sent as usual.
func TestDeltaInitialResourceVersions(t *testing.T) {
	h := startADS(t, adsOpts{apps: 3})
	keep := h.sotw(adsNode("gw-keep")) // keeps the class built
	keep.sync(resource.ClusterType, nil)
	const gone = "outbound|80||gone.mesh.internal"
	for i, tc := range []struct {
		name        string
		typeURL     string
		subscribe   []string // nil: wildcard
		initial     func(cur map[string]string) map[string]string
		want        []string
		wantRemoved []string
	}{
		{
			name: "EDS named", typeURL: resource.EndpointType, subscribe: append(apps(0, 1, 2), gone),
			initial: func(cur map[string]string) map[string]string {
				return map[string]string{app(0): cur[app(0)], app(1): "stale", gone: "x"}
			},
			want: apps(1, 2), wantRemoved: []string{gone},
		},
		{
			name: "CDS wildcard", typeURL: resource.ClusterType,
			initial: func(cur map[string]string) map[string]string {
				return map[string]string{app(0): cur[app(0)], app(2): cur[app(2)], gone: "x"}
			},
			want: apps(1), wantRemoved: []string{gone},
		},
		{
			name: "EDS named, all current", typeURL: resource.EndpointType, subscribe: apps(0, 1),
			initial: func(cur map[string]string) map[string]string {
				return map[string]string{app(0): cur[app(0)], app(1): cur[app(1)]}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := h.delta(adsNode(fmt.Sprintf("gw-%d", i)))
			defer d.cancel()
			d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: tc.typeURL, ResourceNamesSubscribe: tc.subscribe,
				InitialResourceVersions: tc.initial(h.published(tc.typeURL))})
			if tc.want == nil && tc.wantRemoved == nil {
				d.expectNone()
			} else {
				r := d.expect(tc.typeURL)
				checkNames(t, "resources", deltaNames(r), tc.want)
				checkNames(t, "removed", r.GetRemovedResources(), tc.wantRemoved)
				d.ackDelta(r)
			}
			if tc.typeURL != resource.EndpointType {
				return
			}
			// Later changes are sent as usual.
			h.publishAndWait(adsOpts{apps: 3, extra: map[int]int{1: i + 1}}, 1)
			r := d.expect(tc.typeURL)
			checkNames(t, "after app-1 changed", deltaNames(r), apps(1))
		})
	}
}

// A wildcard subscription to a type the snapshot has no resources of still
// gets a first, empty, response (Envoy waits for it to finish its
// initialization), and the resources once there are some.
func TestWildcardEmptyTypeGetsFirstResponse(t *testing.T) {
	for _, typeURL := range []string{resource.ClusterType, resource.ListenerType} {
		for _, delta := range []bool{true, false} {
			name := "sotw " + typeURL
			if delta {
				name = "delta " + typeURL
			}
			t.Run(name, func(t *testing.T) {
				h := startADS(t, adsOpts{apps: 0, bare: true})
				later := adsOpts{apps: 1}
				if delta {
					d := h.delta(adsNode("gw-d"))
					d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL})
					r := d.expect(typeURL)
					if len(r.GetResources()) != 0 || len(r.GetRemovedResources()) != 0 {
						t.Errorf("first response carries %v, removed %v; want nothing", deltaNames(r), r.GetRemovedResources())
					}
					if r.GetSystemVersionInfo() == "" {
						t.Error("first response has no system version")
					}
					d.ackDelta(r)
					d.expectNone()
					h.store.Publish(adsWorld(later))
					if r := d.expect(typeURL); len(r.GetResources()) == 0 {
						t.Error("update carries no resources")
					}
					return
				}
				c := h.sotw(adsNode("gw-s"))
				r := c.sync(typeURL, nil)
				if len(r.GetResources()) != 0 || r.GetVersionInfo() == "" {
					t.Errorf("first response: %d resources, version %q; want none and a version", len(r.GetResources()), r.GetVersionInfo())
				}
				c.expectNone(typeURL)
				h.store.Publish(adsWorld(later))
				if r := c.expect(typeURL); len(r.GetResources()) == 0 {
					t.Error("update carries no resources")
				}
			})
		}
	}
}

// Streams of one class receive byte-identical encodings, and the state of
// the world's full responses share one slice: resources are encoded once
// per snapshot, not per stream or response.
func TestStreamsShareEncodings(t *testing.T) {
	const n = 20 // more than insertion sort's 12, so a sort would move things
	h := startADS(t, adsOpts{apps: n})
	var all []int
	for i := range n {
		all = append(all, i)
	}
	names := apps(all...)

	// Two sotw and two delta streams, syncing at the same time (under -race,
	// this also checks that sharing is read-only).
	type got = map[string][]byte // marshalled Any by resource name
	results := make([]map[string]got, 4)
	done := make(chan struct{}, 4)
	for k := range 4 {
		results[k] = map[string]got{}
		if k < 2 {
			c := h.sotw(adsNode(fmt.Sprintf("gw-s%d", k)))
			c.send(resource.ClusterType, "", "", nil, "")
			c.send(resource.EndpointType, "", "", names, "")
			go func() {
				defer func() { done <- struct{}{} }()
				for _, typ := range []string{resource.ClusterType, resource.EndpointType} {
					m := got{}
					for _, a := range c.next(waitFor, typ).GetResources() {
						b, _ := proto.Marshal(a)
						m[resourceNameOf(a)] = b
					}
					results[k][typ] = m
				}
			}()
			continue
		}
		d := h.delta(adsNode(fmt.Sprintf("gw-d%d", k)))
		d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType})
		d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: names})
		go func() {
			defer func() { done <- struct{}{} }()
			for range 2 {
				var r *discoveryv3.DeltaDiscoveryResponse
				select {
				case r = <-d.in:
				case <-time.After(waitFor):
					return
				}
				m := got{}
				for _, res := range r.GetResources() {
					b, _ := proto.Marshal(res.GetResource())
					m[res.GetName()] = b
				}
				results[k][r.GetTypeUrl()] = m
			}
		}()
	}
	for range 4 {
		<-done
	}
	for _, typ := range []string{resource.ClusterType, resource.EndpointType} {
		ref := results[0][typ]
		if len(ref) != n {
			t.Fatalf("%s: stream 0 got %d resources, want %d", typ, len(ref), n)
		}
		for k := 1; k < 4; k++ {
			if len(results[k][typ]) != n {
				t.Errorf("%s: stream %d got %d resources, want %d", typ, k, len(results[k][typ]), n)
			}
			for name, b := range results[k][typ] {
				if !slices.Equal(b, ref[name]) {
					t.Errorf("%s %s: stream %d's encoding differs from stream 0's", typ, name, k)
				}
			}
		}
	}

	// White box: full responses on fresh states share the set's slice and
	// Anys; partial ones share the Anys.
	snap, err := h.srv.cache.GetSnapshot(adsProxy.ClassKey())
	if err != nil {
		t.Fatal(err)
	}
	cur := snap.set(resource.EndpointType)
	for _, mk := range []struct {
		name string
		t    func() *sotwType
	}{
		{"wildcard", func() *sotwType { return &sotwType{typeStream: typeStream{url: resource.EndpointType, wildcard: true}} }},
		{"covering names", func() *sotwType { return &sotwType{typeStream: typeStream{url: resource.EndpointType, covers: cur}} }},
	} {
		a, wholeA, dueA := mk.t().resources(cur)
		_, wholeB, dueB := mk.t().resources(cur)
		if !dueA || !dueB || !wholeA || !wholeB || len(a) != 0 {
			t.Fatalf("%s: due %v/%v, whole %v/%v, %d listed resources; want the whole set, unlisted", mk.name, dueA, dueB, wholeA, wholeB, len(a))
		}
	}
	// Every stream sending the whole set sends one shared encoding of it,
	// which decodes to the set in name order.
	for _, delta := range []bool{false, true} {
		body := cur.wholeBody(delta)
		if again := cur.wholeBody(delta); len(body) == 0 || &again[0] != &body[0] {
			t.Fatalf("delta=%v: whole body not built once and shared", delta)
		}
		sorted, anys := cur.wire()
		var got, want proto.Message = &discoveryv3.DiscoveryResponse{}, &discoveryv3.DiscoveryResponse{Resources: anys}
		if delta {
			got, want = &discoveryv3.DeltaDiscoveryResponse{}, &discoveryv3.DeltaDiscoveryResponse{Resources: sorted}
		}
		if err := proto.Unmarshal(body, got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("delta=%v: whole body decodes to (-want +got):\n%s", delta, diff)
		}
	}
	sub := &sotwType{typeStream: typeStream{url: resource.EndpointType, names: map[string]struct{}{app(3): {}, app(7): {}}}}
	a, _, _ := sub.resources(cur)
	b, _, _ := (&sotwType{typeStream: typeStream{url: resource.EndpointType, names: sub.names}}).resources(cur)
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("subset: %d and %d resources, want 2", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] || a[i] != cur.items[resourceNameOf(a[i])].wire.Resource {
			t.Errorf("subset: resource %d not the set's shared Any", i)
		}
	}
	// A delta wildcard first response is the whole set.
	dA, _, whole, _ := (&deltaType{typeStream: typeStream{url: resource.ClusterType, wildcard: true}, started: true}).changes(snap.set(resource.ClusterType))
	if len(dA) != n || !whole {
		t.Errorf("delta wildcard: %d resources, whole %v; want %d, whole", len(dA), whole, n)
	}
}

// A rejected delta response that carried newly subscribed names must not
// be sent again as it was: the proxy would reject it again, in a loop. The
// names are sent with the next change.
func TestDeltaNACKOfFreshNamesIsNotResent(t *testing.T) {
	for _, tc := range []struct {
		name string
		// resubscribe rejects the response to a later subscription rather
		// than the first response.
		resubscribe bool
	}{
		{name: "first response"},
		{name: "new subscription", resubscribe: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startADS(t, adsOpts{apps: 3})
			d := h.delta(adsNode("gw-d"))
			sub := apps(0, 1)
			if tc.resubscribe {
				deltaSubscribe[*endpointv3.ClusterLoadAssignment](d, resource.EndpointType, apps(0))
				sub = apps(1)
			}
			d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: sub})
			r := d.expect(resource.EndpointType)
			checkNames(t, "response", deltaNames(r), sub)
			d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResponseNonce: r.GetNonce(),
				ErrorDetail: &statuspb.Status{Code: 3, Message: "endpoints rejected: test"}})
			eventually(t, "the NACK counter", func() bool {
				return h.metric("causeway_xds_nacks_total", map[string]string{"type": resource.EndpointType}) == 1
			})
			d.expectNone()

			h.publishAndWait(adsOpts{apps: 3, extra: map[int]int{1: 1}}, 1)
			r = d.expect(resource.EndpointType)
			checkNames(t, "after a change", deltaNames(r), sub)
			d.ackDelta(r)
			d.expectNone()
		})
	}
}

// A snapshot's publication time is recorded before its streams can see it:
// otherwise a proxy that answers at once is not timed in
// causeway_convergence_seconds (TestDeltaServesSameResources then fails
// now and then under load). Holding the convergence lock, the publication
// must not reach the feed.
func TestConvergenceRecordedBeforeStreamsSeeSnapshot(t *testing.T) {
	store := &model.Store{}
	store.Publish(testWorld(worldOptions{}))
	authority, err := ca.LoadOrCreate(t.TempDir(), "causeway.local")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(Options{Store: store, CA: authority, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	c := addClass(t, s, gatewayProxy)
	pub := s.cache.get(c.key).cur.Load()
	store.Publish(testWorld(worldOptions{extraEndpoint: true}))

	s.conv.mu.Lock()
	rebuilt := make(chan struct{})
	go func() { s.rebuildAll(); close(rebuilt) }()
	select {
	case <-pub.next:
		t.Error("streams see the new snapshot before its publication time is recorded")
	case <-time.After(quietFor):
	}
	s.conv.mu.Unlock()
	<-rebuilt
	if _, ok := s.conv.publishedAt(c.key, resource.EndpointType, s.cache.get(c.key).cur.Load().snap.GetVersion(resource.EndpointType)); !ok {
		t.Error("the new EDS version's publication time is not recorded")
	}
}

// A cluster that changes while its load assignment does not gets the
// assignment again, right after the clusters: Envoy warms a changed
// cluster until it receives its assignment, which would otherwise take
// until initial_fetch_timeout (15 s by default).
func TestChangedClusterGetsItsAssignmentAgain(t *testing.T) {
	t.Run("sotw", func(t *testing.T) {
		h := startADS(t, adsOpts{apps: 3})
		c := h.sotw(adsNode("gw-a"))
		all := apps(0, 1, 2)
		c.sync(resource.ClusterType, nil)
		eds := c.sync(resource.EndpointType, all)

		h.store.Publish(adsWorld(adsOpts{apps: 3, outlier: []int{1}}))
		cds := c.expect(resource.ClusterType)
		c.ack(cds, nil)
		r := c.expect(resource.EndpointType)
		checkNames(t, "EDS after app-1's cluster changed", anyNames(t, r.GetResources()), apps(1))
		if r.GetVersionInfo() != eds.GetVersionInfo() {
			t.Errorf("EDS version %q, want the unchanged %q", r.GetVersionInfo(), eds.GetVersionInfo())
		}
		c.ack(r, all)
		c.expectNone(resource.EndpointType)
	})
	t.Run("delta", func(t *testing.T) {
		h := startADS(t, adsOpts{apps: 3})
		d := h.delta(adsNode("gw-d"))
		d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType})
		d.ackDelta(d.expect(resource.ClusterType))
		d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: apps(0, 1, 2)})
		d.ackDelta(d.expect(resource.EndpointType))

		h.store.Publish(adsWorld(adsOpts{apps: 3, outlier: []int{1}}))
		cds := d.expect(resource.ClusterType)
		checkNames(t, "CDS after app-1's cluster changed", deltaNames(cds), apps(1))
		d.ackDelta(cds)
		r := d.expect(resource.EndpointType)
		checkNames(t, "EDS after app-1's cluster changed", deltaNames(r), apps(1))
		d.ackDelta(r)
		d.expectNone()
	})
}

// A delta gateway subscribing to every load assignment by name (as Envoy
// does after CDS) is served like one holding a subscription map: changes
// only, unsubscribing and resubscribing work. Its long list is decoded once
// for all such streams and stands for the whole set (no per-stream map).
func TestDeltaSubscriptionToEverything(t *testing.T) {
	const n = 2 * sharedListMin
	var all []int
	for i := range n {
		all = append(all, i)
	}
	h := startADS(t, adsOpts{apps: n})

	for _, name := range []string{"gw-d1", "gw-d2"} {
		d := h.delta(adsNode(name))
		d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: apps(all...)})
		r := d.expect(resource.EndpointType)
		checkNames(t, name+" first response", deltaNames(r), apps(all...))
		d.ackDelta(r)

		extra := map[int]int{3: 1}
		if name == "gw-d2" {
			extra = map[int]int{3: 2}
		}
		h.store.Publish(adsWorld(adsOpts{apps: n, extra: extra}))
		r = d.expect(resource.EndpointType)
		checkNames(t, name+" after app-3 changed", deltaNames(r), apps(3))
		d.ackDelta(r)

		d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesUnsubscribe: apps(5)})
		d.expectNone()
		d.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: apps(5)})
		r = d.expect(resource.EndpointType)
		checkNames(t, name+" after resubscribing app-5", deltaNames(r), apps(5))
		d.ackDelta(r)
		d.expectNone()
	}

	// White box: the decoded subscription stands for the set, without a
	// map of its names (a map of 128 names would be many allocations).
	snap, err := h.srv.cache.GetSnapshot(adsProxy.ClassKey())
	if err != nil {
		t.Fatal(err)
	}
	cur := snap.set(resource.EndpointType)
	wire, err := proto.Marshal(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: apps(all...)})
	if err != nil {
		t.Fatal(err)
	}
	req := &discoveryv3.DeltaDiscoveryRequest{}
	if err := h.srv.codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(wire)}, req); err != nil {
		t.Fatal(err)
	}
	var ts *deltaType
	allocs := testing.AllocsPerRun(10, func() {
		ts = &deltaType{typeStream: typeStream{url: resource.EndpointType}}
		h.srv.deltaRequest("class", nil, ts, req, cur)
	})
	if ts.covers != cur || ts.names != nil || allocs > 2 {
		t.Errorf("subscription to every name: covers the set %v, map of %d names, %.0f allocations", ts.covers == cur, len(ts.names), allocs)
	}
}
