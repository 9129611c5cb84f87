package translator

import (
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"weak"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// routePools are the parts random route edits draw from: every golden
// world's hostnames, parentRefs, backendRefs, matches and filters (and a
// few hostnames of their own), so edits stay plausible for the world.
type routePools struct {
	hosts    []gwv1.Hostname
	parents  []gwv1.ParentReference
	backends []gwv1.HTTPBackendRef
	matches  [][]gwv1.HTTPRouteMatch
	filters  [][]gwv1.HTTPRouteFilter
}

func poolsOf(w *model.Snapshot) *routePools {
	p := &routePools{hosts: []gwv1.Hostname{"*.example.com", "a.example.com", "b.a.example.com", "other.test", "*.test"}}
	for _, gw := range w.Gateways() {
		for _, l := range gw.Spec.Listeners {
			if l.Hostname != nil {
				p.hosts = append(p.hosts, *l.Hostname, "x."+*l.Hostname)
			}
		}
	}
	for _, r := range w.HTTPRoutes() {
		p.hosts = append(p.hosts, r.Spec.Hostnames...)
		p.parents = append(p.parents, r.Spec.ParentRefs...)
		for _, rule := range r.Spec.Rules {
			p.backends = append(p.backends, rule.BackendRefs...)
			p.matches = append(p.matches, rule.Matches)
			p.filters = append(p.filters, rule.Filters)
		}
	}
	p.matches = append(p.matches, nil)
	p.filters = append(p.filters, nil)
	return p
}

func pick[T any](rng *rand.Rand, list []T) T {
	return list[rng.Intn(len(list))]
}

// editRoutes applies 1-3 random edits to w's HTTPRoutes and returns the
// new world and the keys of the routes edited.
func editRoutes(rng *rand.Rand, w *model.Snapshot, pools *routePools, serial *int) (*model.Snapshot, map[string]bool) {
	routes := slices.Clone(w.HTTPRoutes())
	edited := map[string]bool{}
	for n := 1 + rng.Intn(3); n > 0; n-- {
		if len(routes) == 0 || rng.Intn(6) == 0 { // add a copy of a route, or a fresh one
			*serial++
			r := &model.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("added-%d", *serial),
				CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, *serial, 0, time.UTC))}}
			if len(routes) > 0 {
				src := pick(rng, routes)
				r.Spec = *src.Spec.DeepCopy()
				r.Namespace = src.Namespace
			}
			routes = append(routes, r)
			edited[model.RouteKey(r)] = true
			continue
		}
		i := rng.Intn(len(routes))
		r := routes[i].DeepCopy()
		edited[model.RouteKey(r)] = true
		switch rng.Intn(8) {
		case 0: // remove it
			routes = slices.Delete(routes, i, i+1)
			continue
		case 1: // hostnames
			r.Spec.Hostnames = nil
			for k := rng.Intn(3); k > 0; k-- {
				r.Spec.Hostnames = append(r.Spec.Hostnames, pick(rng, pools.hosts))
			}
		case 2: // parentRefs
			if len(pools.parents) > 0 {
				r.Spec.ParentRefs = []gwv1.ParentReference{pick(rng, pools.parents)}
				if rng.Intn(3) == 0 {
					r.Spec.ParentRefs = append(r.Spec.ParentRefs, pick(rng, pools.parents))
				}
			}
		case 3: // matches
			if len(r.Spec.Rules) > 0 {
				r.Spec.Rules[rng.Intn(len(r.Spec.Rules))].Matches = pick(rng, pools.matches)
			}
		case 4: // backendRefs
			if len(r.Spec.Rules) > 0 && len(pools.backends) > 0 {
				rule := &r.Spec.Rules[rng.Intn(len(r.Spec.Rules))]
				rule.BackendRefs = []gwv1.HTTPBackendRef{pick(rng, pools.backends)}
				if rng.Intn(2) == 0 {
					rule.BackendRefs = append(rule.BackendRefs, pick(rng, pools.backends))
				}
			}
		case 5: // weights
			for ri := range r.Spec.Rules {
				for bi := range r.Spec.Rules[ri].BackendRefs {
					wt := int32(rng.Intn(4))
					r.Spec.Rules[ri].BackendRefs[bi].Weight = &wt
				}
			}
		case 6: // filters
			if len(r.Spec.Rules) > 0 {
				r.Spec.Rules[rng.Intn(len(r.Spec.Rules))].Filters = pick(rng, pools.filters)
			}
		case 7: // drop or duplicate a rule
			if len(r.Spec.Rules) > 1 && rng.Intn(2) == 0 {
				r.Spec.Rules = r.Spec.Rules[1:]
			} else if len(r.Spec.Rules) > 0 {
				r.Spec.Rules = append(r.Spec.Rules, *r.Spec.Rules[0].DeepCopy())
			}
		}
		routes[i] = r
	}
	world := worldOf(w, w.Services())
	world.HTTPRoutes = routes
	return model.NewSnapshot(world), edited
}

// applyRouteUpdate is what a consumer of RouteUpdates does: old's
// resources with u's changes.
func applyRouteUpdate(t *testing.T, old *Resources, u *RouteUpdate) *Resources {
	t.Helper()
	out := &Resources{Listeners: old.Listeners, Secrets: old.Secrets}
	patches := map[string]RouteConfigPatch{}
	for _, p := range u.Routes {
		patches[p.Config.GetName()] = p
	}
	for _, rc := range old.Routes {
		p, ok := patches[rc.GetName()]
		if !ok {
			out.Routes = append(out.Routes, rc)
			continue
		}
		delete(patches, rc.GetName())
		prev := map[string]*routev3.VirtualHost{}
		for _, vh := range rc.VirtualHosts {
			prev[vh.GetName()] = vh
		}
		next := proto.Clone(p.Config).(*routev3.RouteConfiguration)
		for _, name := range p.VirtualHosts {
			vh := p.Built[name]
			if vh == nil {
				if vh = prev[name]; vh == nil {
					t.Fatalf("route configuration %s: virtual host %s neither rebuilt nor in the last configuration", rc.GetName(), name)
				}
			}
			next.VirtualHosts = append(next.VirtualHosts, vh)
		}
		out.Routes = append(out.Routes, next)
	}
	if len(patches) > 0 {
		t.Fatalf("patches for route configurations the proxy lacks: %v", patches)
	}
	removed := map[string]bool{}
	for _, n := range u.RemovedClusters {
		removed[n] = true
	}
	for _, c := range old.Clusters {
		if !removed[c.GetName()] {
			out.Clusters = append(out.Clusters, c)
		}
	}
	for _, c := range old.Endpoints {
		if !removed[c.GetClusterName()] {
			out.Endpoints = append(out.Endpoints, c)
		}
	}
	out.Clusters = append(out.Clusters, u.Clusters...)
	out.Endpoints = append(out.Endpoints, u.Endpoints...)
	out.sort()
	return out
}

// TestRouteUpdatesMatchTranslate: on every golden world with HTTPRoutes,
// random HTTPRoute edits (add, remove, hostnames, parentRefs, matches,
// backendRefs, weights, filters, rules), applied one after another through
// the route fast path, give exactly Translate's resources. Seeded; the
// seed is in every failure.
func TestRouteUpdatesMatchTranslate(t *testing.T) {
	seed := time.Now().UnixNano()
	if s := os.Getenv("CAUSEWAY_ROUTE_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (CAUSEWAY_ROUTE_SEED=%d to repeat)", seed, seed)
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	const iterations = 8
	checked, rebuilt := 0, 0
	for ci, e := range entries {
		if !e.IsDir() {
			continue
		}
		world, p := loadGoldenCase(t, filepath.Join(goldenDir, e.Name()))
		if len(world.HTTPRoutes()) == 0 {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed + int64(ci)))
			pools, serial := poolsOf(world), 0
			for _, role := range []model.Role{p.Role, model.RoleGateway} {
				p := p
				p.Role = role
				old := world
				oldRes := Translate(old, p, testCredentials)
				for iter := range iterations {
					nw, edited := editRoutes(rng, old, pools, &serial)
					changed, ok := HTTPRoutesOnlyChange(old, nw)
					if !ok {
						t.Fatalf("seed %d iteration %d: HTTPRoutesOnlyChange refused a routes-only change", seed, iter)
					}
					for k := range changed {
						if !edited[k] {
							t.Fatalf("seed %d iteration %d: HTTPRoutesOnlyChange names unedited route %s", seed, iter, k)
						}
					}
					u, ok := RouteUpdates(old, nw, p, changed)
					if !ok {
						if role == model.RoleClient {
							break // client proxies take the full path (mesh routes)
						}
						if newWorkspaces(nw).enabled() {
							return // scoped worlds take the full path
						}
						t.Fatalf("seed %d iteration %d: RouteUpdates refused", seed, iter)
					}
					got := applyRouteUpdate(t, oldRes, u)
					// Translate replaces the class's route state: keep the
					// fast path's own, so the next edit builds on it.
					class := p.ClassKey()
					routeStates.mu.Lock()
					st := routeStates.states[class]
					routeStates.mu.Unlock()
					want := Translate(nw, p, testCredentials)
					if st != nil {
						routeStates.put(class, weak.Make(nw), st)
					}
					want.Diagnostics = nil
					if d := cmp.Diff(want, got, protocmp.Transform(), cmp.AllowUnexported(Resources{})); d != "" {
						t.Fatalf("seed %d iteration %d (edited %v): fast path differs from Translate (-want +got):\n%s", seed, iter, slices.Sorted(maps.Keys(edited)), d)
					}
					for _, rp := range u.Routes {
						rebuilt += len(rp.Built)
					}
					checked++
					old, oldRes = nw, got
				}
			}
		})
	}
	if checked < 150 || rebuilt < 100 {
		t.Fatalf("only %d changes and %d rebuilt virtual hosts checked; the test is not exercising the fast path", checked, rebuilt)
	}
	t.Logf("%d changes checked, %d virtual hosts rebuilt", checked, rebuilt)
}
