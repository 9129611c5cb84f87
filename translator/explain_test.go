package translator

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

// loadGoldenCase loads a golden case's world (with its stale clusters) and proxy.
func loadGoldenCase(t *testing.T, dir string) (*model.Snapshot, model.Proxy) {
	t.Helper()
	world, err := file.Load(filepath.Join(dir, "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return markStale(t, world, filepath.Join(dir, "stale-clusters.yaml")), readProxy(t, filepath.Join(dir, "proxy.yaml"))
}

// TestExplainMatchesTranslation explains every load assignment of every
// golden case's proxy and checks the explanation against the assignment
// Translate built: each explained endpoint sits at the priority, locality
// and weights the assignment gives its address (or its east-west
// gateways), and each address in the assignment is explained. So an
// explanation cannot drift from the EDS proxies receive.
func TestExplainMatchesTranslation(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	explained := 0
	for _, e := range entries {
		dir := filepath.Join(goldenDir, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			world, p := loadGoldenCase(t, dir)
			res := Translate(world, p, testCredentials)
			scoped, claims, _ := scopeWorld(world)
			ex := &explainer{w: scoped, p: p, claims: claims}
			if routesOutbound(p) {
				ex.policies = indexPolicies(scoped, p.Locality, &Resources{})
			}
			for _, cla := range res.Endpoints {
				d, ok := ex.destinationByCluster(cla.GetClusterName())
				if !ok {
					if !strings.HasPrefix(cla.GetClusterName(), "outbound|") {
						t.Errorf("%s: not explained", cla.GetClusterName())
					}
					continue // an ExternalService's own cluster
				}
				explained++
				checkExplained(t, d, cla)
			}
			// Every host the proxy knows explains without error, into
			// destinations the translation has.
			eds := map[string]bool{}
			for _, cla := range res.Endpoints {
				eds[cla.GetClusterName()] = true
			}
			for _, h := range ex.knownHosts(world) {
				got, err := Explain(world, p, ExplainQuery{Host: h})
				var nr *NoRouteError
				if errors.As(err, &nr) {
					continue // a route host whose routes all need a path
				}
				if err != nil {
					t.Errorf("host %s: %v", h, err)
					continue
				}
				for _, d := range got.Destinations {
					if !eds[d.Cluster] {
						t.Errorf("host %s: destination %s has no load assignment in the translation", h, d.Cluster)
					}
				}
			}
		})
	}
	if explained < 100 {
		t.Errorf("explained %d load assignments over every golden case; want at least 100", explained)
	}
}

type lbKey struct {
	prio      uint32
	loc       model.Locality
	addr      string
	port      uint32
	weight    uint32
	locWeight uint32
}

func checkExplained(t *testing.T, d ExplainedDestination, cla *endpointv3.ClusterLoadAssignment) {
	t.Helper()
	inCLA := map[lbKey]bool{}
	for _, lle := range cla.GetEndpoints() {
		l := lle.GetLocality()
		for _, lb := range lle.GetLbEndpoints() {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			inCLA[lbKey{lle.GetPriority(), model.Locality{Region: l.GetRegion(), Zone: l.GetZone(), Subzone: l.GetSubZone()},
				sa.GetAddress(), sa.GetPortValue(), lb.GetLoadBalancingWeight().GetValue(), lle.GetLoadBalancingWeight().GetValue()}] = true
		}
	}
	seen := map[lbKey]bool{}
	for _, e := range d.Endpoints {
		keys := []lbKey{{e.Priority, e.Locality, e.Address, e.Port, e.Weight, e.LocalityWeight}}
		if len(e.Via) > 0 {
			keys = keys[:0]
			for _, gw := range e.Via {
				keys = append(keys, lbKey{e.Priority, e.Locality, gw.Address, gw.Port, gw.Weight, e.LocalityWeight})
			}
		}
		for _, k := range keys {
			if !inCLA[k] {
				t.Errorf("%s: explained endpoint %s (%+v) is not in the translated assignment at priority %d, locality %s, weight %d, locality weight %d",
					d.Cluster, e.Address, e, k.prio, k.loc, k.weight, k.locWeight)
			}
			seen[k] = true
		}
		if e.Rule == "" || e.Rule == "unknown rule" {
			t.Errorf("%s: endpoint %s has no rule", d.Cluster, e.Address)
		}
	}
	for k := range inCLA {
		if !seen[k] {
			t.Errorf("%s: assignment entry %+v is not explained", d.Cluster, k)
		}
	}
}

// TestExplainRules checks, per golden world, the rule, state and left-out
// reasons of chosen endpoints.
func TestExplainRules(t *testing.T) {
	type want struct {
		address  string // endpoint address (its own, not a gateway's)
		priority uint32
		rule     string // substring
	}
	type leftOut struct{ address, reason string }
	for _, tc := range []struct {
		dir, host string
		cluster   string // the destination to look at
		want      []want
		leftOut   []leftOut
		via       string // a gateway some endpoint is reached through
		extra     string // YAML documents added to the world
	}{
		{dir: "two-clusters-prefer-close", host: "reviews.mesh.internal.com", cluster: "outbound|9080||reviews.mesh.internal.com",
			want: []want{{"127.0.1.10", 0, "locality: the proxy's own (same region, zone and subzone)"}, {"127.0.2.10", 1, "locality: other region"}},
			via:  "127.0.2.100"},
		{dir: "failover-priority-labels", host: "reviews.mesh.internal.com", cluster: "outbound|9080||reviews.mesh.internal.com",
			want: []want{
				{"127.0.1.11", 0, "matches all of [version=v2 topology.kubernetes.io/region]"},
				{"127.0.2.10", 1, `matches [version=v2], not "topology.kubernetes.io/region"`},
				{"127.0.1.10", 2, `does not match "version=v2"`},
				{"127.0.3.10", 3, "locality: other region"},
			}},
		{dir: "failover-locality-mapping", host: "reviews.mesh.internal.com", cluster: "outbound|9080||reviews.mesh.internal.com",
			want: []want{{"127.0.3.10", 2, "localityMappings from us-east/*/*: to[0] eu-west/*/*, tried in list order"}}},
		{dir: "failover-mapping-weights", host: "reviews.mesh.internal.com", cluster: "outbound|9080||reviews.mesh.internal.com",
			want: []want{{"127.0.2.10", 1, "weighted targets share one priority"}}},
		{dir: "stale-endpoints-prefer-close", host: "reviews.mesh.internal.com", cluster: "outbound|9080||reviews.mesh.internal.com",
			want: []want{{"127.0.2.10", 2, "stale (cluster cluster-2 is out of sight): after every fresh endpoint; locality: same region"}}},
		{dir: "not-ready-endpoints", host: "reviews.mesh.internal.com", cluster: "outbound|9080||reviews.mesh.internal.com",
			leftOut: []leftOut{{"127.0.1.11", "not ready"}}},
		{dir: "remote-cluster-without-eastwest", host: "reviews.mesh.internal.com", cluster: "outbound|9080||reviews.mesh.internal.com",
			leftOut: []leftOut{{"127.0.3.10", "cluster cluster-3 has no east-west gateway: not reachable from cluster cluster-1"}}},
		{dir: "subset-by-version", host: "reviews.mesh.internal.com", cluster: "outbound|9080|v1|reviews.mesh.internal.com",
			leftOut: []leftOut{{"127.0.1.11", "subset v1 selects {version=v1}"}}},
		{dir: "workspace-visibility", host: "reviews.team-a.internal", cluster: "outbound|9080||reviews.team-a.internal|team-a",
			extra:   teamAReviews,
			leftOut: []leftOut{{"", "its Service is in workspace team-b, which workspace team-a does not see: team-a does not import from team-b and team-b does not export to team-a"}}},
		{dir: "eastwest-listener", host: "reviews.mesh.internal.com", cluster: "inbound|9080||reviews.mesh.internal.com",
			want:    []want{{"127.0.2.10", 0, "one priority for every locality: flat (an east-west gateway forwards to its own cluster's endpoints)"}},
			leftOut: []leftOut{{"", "an east-west gateway serves only its own cluster's (cluster-2) endpoints"}}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			world, p := loadGoldenCase(t, filepath.Join(goldenDir, tc.dir))
			if tc.extra != "" {
				world = withDocuments(t, filepath.Join(goldenDir, tc.dir, "world.yaml"), tc.extra)
			}
			got, err := Explain(world, p, ExplainQuery{Host: tc.host})
			if err != nil {
				t.Fatal(err)
			}
			var d *ExplainedDestination
			for i := range got.Destinations {
				if got.Destinations[i].Cluster == tc.cluster {
					d = &got.Destinations[i]
				}
			}
			if d == nil {
				t.Fatalf("no destination %s in %+v", tc.cluster, got.Destinations)
			}
			for _, w := range tc.want {
				found := false
				for _, e := range d.Endpoints {
					if e.Address == w.address {
						found = true
						if e.Priority != w.priority || !strings.Contains(e.Rule, w.rule) {
							t.Errorf("%s: priority %d rule %q, want %d and a rule containing %q", w.address, e.Priority, e.Rule, w.priority, w.rule)
						}
					}
				}
				if !found {
					t.Errorf("%s: not among the endpoints %+v", w.address, d.Endpoints)
				}
			}
			for _, lo := range tc.leftOut {
				found := false
				for _, l := range d.LeftOut {
					if (lo.address == "" || l.Address == lo.address) && strings.Contains(l.Reason, lo.reason) {
						found = true
					}
				}
				if !found {
					t.Errorf("no endpoint %q left out for %q in %+v", lo.address, lo.reason, d.LeftOut)
				}
			}
			if tc.via != "" {
				found := false
				for _, e := range d.Endpoints {
					for _, gw := range e.Via {
						found = found || gw.Address == tc.via
					}
				}
				if !found {
					t.Errorf("no endpoint reached through %s: %+v", tc.via, d.Endpoints)
				}
			}
			again, err := Explain(world, p, ExplainQuery{Host: tc.host})
			if err != nil || !reflect.DeepEqual(got, again) {
				t.Errorf("a second Explain differs (err %v)", err)
			}
		})
	}
}

// teamAReviews is a VirtualDestination of workspace team-a selecting
// app=reviews, whose Services are all in workspace team-b.
const teamAReviews = `
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews, namespace: team-a}
spec:
  hosts: [reviews.team-a.internal]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: reviews}}]
`

// withDocuments parses the world file at path with extra appended.
func withDocuments(t *testing.T, path, extra string) *model.Snapshot {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := file.Parse(path, append(data, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestExplainRoutes follows a gateway's routes for a host and path to
// their backends (Service backendRefs and VirtualDestinations).
func TestExplainRoutes(t *testing.T) {
	for _, tc := range []struct {
		dir, path string
		routes    []string          // route names, in order
		dests     map[string]uint32 // cluster → route weight
	}{
		{"gateway-service-backend", "/productpage", []string{"bookinfo/productpage/rule/0/match/0"},
			map[string]uint32{ServiceClusterName("bookinfo", "productpage", 9080): 1}},
		{"weighted-backends", "/reviews/1", []string{"bookinfo/reviews-split/rule/0/match/0"},
			map[string]uint32{OutboundClusterName("reviews.mesh.internal.com", 9080): 80, ServiceClusterName("bookinfo", "reviews-canary", 9080): 20}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			world, p := loadGoldenCase(t, filepath.Join(goldenDir, tc.dir))
			// Their only virtual host is "*": any host reaches the routes.
			got, err := Explain(world, p, ExplainQuery{Host: "bookinfo.example.com", Path: tc.path})
			if err != nil {
				t.Fatal(err)
			}
			var routes []string
			for _, r := range got.Routes {
				routes = append(routes, r.Name)
			}
			if !reflect.DeepEqual(routes, tc.routes) {
				t.Errorf("routes %v, want %v", routes, tc.routes)
			}
			dests := map[string]uint32{}
			for _, d := range got.Destinations {
				dests[d.Cluster] = d.RouteWeight
				if len(d.Endpoints) == 0 {
					t.Errorf("%s: no endpoints", d.Cluster)
				}
			}
			if !reflect.DeepEqual(dests, tc.dests) {
				t.Errorf("destinations %v, want %v", dests, tc.dests)
			}
		})
	}
}

func TestExplainUnknownHost(t *testing.T) {
	world, p := loadGoldenCase(t, filepath.Join(goldenDir, "two-clusters-prefer-close"))
	_, err := Explain(world, p, ExplainQuery{Host: "reviews.mesh.internal.co"})
	var uh *UnknownHostError
	if !errors.As(err, &uh) {
		t.Fatalf("err = %v, want an UnknownHostError", err)
	}
	if len(uh.Closest) == 0 || uh.Closest[0] != "reviews.mesh.internal.com" || len(uh.Closest) > maxClosestHosts {
		t.Errorf("closest = %v, want reviews.mesh.internal.com first, at most %d", uh.Closest, maxClosestHosts)
	}
	p.Cluster = "cluster-9"
	_, err = Explain(world, p, ExplainQuery{Host: "reviews.mesh.internal.com"})
	var uc *UnknownClusterError
	if !errors.As(err, &uc) || len(uc.Known) == 0 {
		t.Errorf("err = %v, want an UnknownClusterError listing the clusters", err)
	}
}
