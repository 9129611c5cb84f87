package policies_test

import (
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// gateway is the proxy every example is translated for: a gateway in
// cluster-1, us-east.
var gateway = model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"}}

// examples maps each example file to the one fact it exists to show.
var examples = map[string]func(t *testing.T, r *translator.Resources){
	"failover-policy.yaml":   checkFailover,
	"outlier-detection.yaml": checkOutlier,
	"subsets.yaml":           checkSubsets,
	"external-service.yaml":  checkExternal,
	"federation.yaml":        checkFederation,
	"workspaces.yaml":        checkWorkspaces,
	"routes.yaml":            checkRoutes,
}

// TestExamples loads each example as `causeway serve --world` would and
// translates it; any diagnostic fails, since examples must be clean.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range examples {
		names = append(names, name)
	}
	sort.Strings(names)
	if diff := cmp.Diff(names, files); diff != "" {
		t.Errorf("every example file needs a check (-checked +files):\n%s", diff)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			snap, err := file.Load(name)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			r := translator.Translate(snap, gateway, translator.Credentials{})
			for _, d := range r.Diagnostics {
				t.Errorf("diagnostic: %s", d)
			}
			examples[name](t, r)
		})
	}
}

func cluster(t *testing.T, r *translator.Resources, name string) *clusterv3.Cluster {
	t.Helper()
	for _, c := range r.Clusters {
		if c.GetName() == name {
			return c
		}
	}
	var have []string
	for _, c := range r.Clusters {
		have = append(have, c.GetName())
	}
	t.Fatalf("no cluster %q; have %q", name, have)
	return nil
}

func loadAssignment(t *testing.T, r *translator.Resources, name string) *endpointv3.ClusterLoadAssignment {
	t.Helper()
	for _, e := range r.Endpoints {
		if e.GetClusterName() == name {
			return e
		}
	}
	if c := cluster(t, r, name); c.GetLoadAssignment() != nil {
		return c.GetLoadAssignment() // inline (STRICT_DNS)
	}
	t.Fatalf("no endpoints for cluster %q", name)
	return nil
}

// addresses lists "address:port" of every endpoint of a load assignment.
func addresses(cla *endpointv3.ClusterLoadAssignment) []string {
	var out []string
	for _, l := range cla.GetEndpoints() {
		for _, e := range l.GetLbEndpoints() {
			sa := e.GetEndpoint().GetAddress().GetSocketAddress()
			out = append(out, sa.GetAddress()+":"+strconv.FormatUint(uint64(sa.GetPortValue()), 10))
		}
	}
	sort.Strings(out)
	return out
}

// routes lists every route of every route configuration.
func routes(r *translator.Resources) []*routev3.Route {
	var out []*routev3.Route
	for _, rc := range r.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			out = append(out, vh.GetRoutes()...)
		}
	}
	return out
}

// routedClusters lists the clusters routes send to (weighted ones too).
func routedClusters(r *translator.Resources) []string {
	var out []string
	for _, rt := range routes(r) {
		a := rt.GetRoute()
		if c := a.GetCluster(); c != "" {
			out = append(out, c)
		}
		for _, w := range a.GetWeightedClusters().GetClusters() {
			out = append(out, w.GetName())
		}
	}
	return out
}

// checkFailover: from us-east, eu-west (the mapping's target) ranks ahead
// of us-west.
func checkFailover(t *testing.T, r *translator.Resources) {
	cla := loadAssignment(t, r, "outbound|9080||reviews.mesh.internal.com")
	got := map[string]uint32{}
	for _, l := range cla.GetEndpoints() {
		got[l.GetLocality().GetRegion()] = l.GetPriority()
	}
	want := map[string]uint32{"us-east": 0, "eu-west": 1, "us-west": 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("priority by region (-want +got):\n%s", diff)
	}
}

// checkOutlier: the policy's values, the defaults for the rest, and no
// panic routing into ejected hosts.
func checkOutlier(t *testing.T, r *translator.Resources) {
	c := cluster(t, r, "outbound|9080||reviews.mesh.internal.com")
	od := c.GetOutlierDetection()
	if od == nil {
		t.Fatal("no outlier_detection")
	}
	got := []any{od.GetConsecutive_5Xx().GetValue(), od.GetInterval().AsDuration(), od.GetBaseEjectionTime().AsDuration(), od.GetMaxEjectionPercent().GetValue()}
	want := []any{uint32(3), 5 * time.Second, 15 * time.Second, uint32(100)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("consecutive_5xx, interval, base_ejection_time, max_ejection_percent (-want +got):\n%s", diff)
	}
	if p := c.GetCommonLbConfig().GetHealthyPanicThreshold(); p == nil || p.GetValue() != 0 {
		t.Errorf("healthy_panic_threshold = %v, want an explicit 0", p)
	}
}

// checkSubsets: a cluster per declared subset; routes reach v1 and v2.
func checkSubsets(t *testing.T, r *translator.Resources) {
	for _, s := range []string{"v1", "v2", "west"} {
		cluster(t, r, "outbound|9080|"+s+"|reviews.mesh.internal.com")
	}
	routed := routedClusters(r)
	for _, want := range []string{"outbound|9080|v1|reviews.mesh.internal.com", "outbound|9080|v2|reviews.mesh.internal.com"} {
		if !slices.Contains(routed, want) {
			t.Errorf("no route to %s; routes reach %q", want, routed)
		}
	}
	// Subset west is cluster-2's endpoints only: via its east-west gateway.
	if got := addresses(loadAssignment(t, r, "outbound|9080|west|reviews.mesh.internal.com")); !cmp.Equal(got, []string{"127.0.2.100:15443"}) {
		t.Errorf("west endpoints %q, want cluster-2's east-west gateway", got)
	}
}

// checkExternal: IP endpoints by EDS, a DNS name by STRICT_DNS, and a VM
// joining a VirtualDestination.
func checkExternal(t *testing.T, r *translator.Resources) {
	if got := addresses(loadAssignment(t, r, "outbound|9080||ratings.vm.example.com")); !cmp.Equal(got, []string{"192.0.2.10:8080", "192.0.2.11:8080"}) {
		t.Errorf("ratings.vm.example.com endpoints %q", got)
	}
	if c := cluster(t, r, "outbound|80||api.partner.example.com"); c.GetType() != clusterv3.Cluster_STRICT_DNS {
		t.Errorf("api.partner.example.com cluster type %v, want STRICT_DNS", c.GetType())
	}
	if got := addresses(loadAssignment(t, r, "outbound|9080||reviews.mesh.internal.com")); !slices.Contains(got, "192.0.2.20:9080") {
		t.Errorf("reviews.mesh.internal.com endpoints %q lack the VM 192.0.2.20:9080", got)
	}
}

// checkFederation: the cluster-2 hostname has cluster-2's endpoints only,
// through its east-west gateway.
func checkFederation(t *testing.T, r *translator.Resources) {
	name := "outbound|9080||reviews.bookinfo.svc.cluster-2.global|bookinfo"
	if got := addresses(loadAssignment(t, r, name)); !cmp.Equal(got, []string{"127.0.2.100:15443"}) {
		t.Errorf("%s endpoints %q, want cluster-2's east-west gateway", name, got)
	}
	if !slices.Contains(routedClusters(r), name) {
		t.Errorf("no route to %s", name)
	}
}

// checkWorkspaces: the gateway's route reaches the exported reviews, never
// the sandbox's.
func checkWorkspaces(t *testing.T, r *translator.Resources) {
	routed := routedClusters(r)
	if want := "outbound|9080||reviews.mesh.internal.com|reviews-team"; !slices.Contains(routed, want) {
		t.Errorf("routes reach %q, want %s", routed, want)
	}
	for _, c := range routed {
		if c == "outbound|9080||reviews.mesh.internal.com|sandbox" {
			t.Errorf("a route reaches the sandbox workspace, which exports nothing")
		}
	}
}

// checkRoutes: the regex rule's timeouts and retries.
func checkRoutes(t *testing.T, r *translator.Resources) {
	for _, rt := range routes(r) {
		if rt.GetMatch().GetSafeRegex() == nil {
			continue
		}
		a := rt.GetRoute()
		rp := a.GetRetryPolicy()
		got := []any{a.GetTimeout().AsDuration(), rp.GetPerTryTimeout().AsDuration(), rp.GetNumRetries().GetValue(), rp.GetRetriableStatusCodes()}
		want := []any{10 * time.Second, 2 * time.Second, uint32(3), []uint32{502, 503}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("timeout, per_try_timeout, num_retries, retriable_status_codes (-want +got):\n%s", diff)
		}
		return
	}
	t.Error("no route with a regular-expression path")
}
