package translator

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"weak"

	"google.golang.org/protobuf/proto"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

// worldOf rebuilds a World from a snapshot, with services replaced.
func worldOf(w *model.Snapshot, services []model.Service) model.World {
	return model.World{
		Clusters:                 w.Clusters(),
		Services:                 services,
		VirtualDestinations:      w.VirtualDestinations(),
		Gateways:                 w.Gateways(),
		HTTPRoutes:               w.HTTPRoutes(),
		ReferenceGrants:          w.ReferenceGrants(),
		ExternalServices:         w.ExternalServices(),
		FailoverPolicies:         w.FailoverPolicies(),
		OutlierDetectionPolicies: w.OutlierDetectionPolicies(),
		Workspaces:               w.Workspaces(),
		GatewayClasses:           w.GatewayClasses(),
		Namespaces:               w.Namespaces(),
		Secrets:                  w.Secrets(),
		ControllerName:           w.ControllerName(),
	}
}

// mutateEndpoints changes the endpoints of a random choice of services and
// returns the new snapshot and the keys it touched.
func mutateEndpoints(rng *rand.Rand, w *model.Snapshot) (*model.Snapshot, map[model.ServiceKey]bool) {
	old := w.Services()
	services := make([]model.Service, len(old))
	touched := map[model.ServiceKey]bool{}
	for i, svc := range old {
		eps := append([]model.Endpoint(nil), svc.Endpoints...)
		if rng.Intn(3) == 0 {
			touched[svc.Key()] = true
			switch rng.Intn(5) {
			case 0: // flip readiness
				if len(eps) > 0 {
					j := rng.Intn(len(eps))
					eps[j].Ready = !eps[j].Ready
				}
			case 1: // remove one
				if len(eps) > 0 {
					j := rng.Intn(len(eps))
					eps = append(eps[:j:j], eps[j+1:]...)
				}
			case 2: // add one, a copy of another at a new address
				ep := model.Endpoint{Address: fmt.Sprintf("10.250.%d.%d", rng.Intn(250), rng.Intn(250)), Ready: true}
				if len(eps) > 0 {
					ep.Ports = eps[0].Ports
					ep.Locality = eps[rng.Intn(len(eps))].Locality
					ep.Labels = eps[0].Labels
				} else {
					for _, sp := range svc.Ports {
						ep.Ports = append(ep.Ports, model.EndpointPort{Name: sp.Name, Port: sp.TargetPort})
					}
				}
				eps = append(eps, ep)
			case 3: // stale
				if len(eps) > 0 {
					j := rng.Intn(len(eps))
					eps[j].Stale = !eps[j].Stale
				}
			case 4: // all not ready
				for j := range eps {
					eps[j].Ready = false
				}
			}
		}
		svc.Endpoints = eps
		services[i] = svc
	}
	return model.NewSnapshot(worldOf(w, services)), touched
}

func marshalDet(t *testing.T, m proto.Message) string {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func byName[T interface {
	proto.Message
	GetName() string
}](t *testing.T, list []T) map[string]string {
	out := map[string]string{}
	for _, m := range list {
		out[m.GetName()] = marshalDet(t, m)
	}
	return out
}

func allBytes(t *testing.T, r *Resources) [4]map[string]string {
	clas := map[string]string{}
	for _, m := range r.Endpoints {
		clas[m.GetClusterName()] = marshalDet(t, m)
	}
	return [4]map[string]string{byName(t, r.Listeners), byName(t, r.Routes), byName(t, r.Clusters), clas}
}

// forgetIndexes empties the fast path's cache.
func forgetIndexes() {
	fast.mu.Lock()
	defer fast.mu.Unlock()
	clear(fast.indexes)
	fast.roots = nil
}

// TestLoadAssignmentsMatchTranslate: on every golden world and benchWorld,
// for random endpoint changes, EndpointsOnlyChange accepts the change,
// only the load assignments LoadAssignments returns differ between the two
// translations, and those are byte-identical to Translate's.
func TestLoadAssignmentsMatchTranslate(t *testing.T) {
	type tcase struct {
		name  string
		world *model.Snapshot
		proxy model.Proxy
	}
	var cases []tcase
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(goldenDir, e.Name())
		w, err := file.Load(filepath.Join(dir, "world.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		w = markStale(t, w, filepath.Join(dir, "stale-clusters.yaml"))
		cases = append(cases, tcase{e.Name(), w, readProxy(t, filepath.Join(dir, "proxy.yaml"))})
	}
	bw := benchWorld(20, 3)
	cases = append(cases,
		tcase{"bench-gateway", bw, model.Proxy{Role: model.RoleGateway, Cluster: "c1", Locality: model.Locality{Region: "r1", Zone: "z1"}}},
		tcase{"bench-eastwest", bw, model.Proxy{Role: model.RoleEastWest, Cluster: "c2"}})
	diffs := 0
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(ci)))
			for _, role := range []model.Role{c.proxy.Role, model.RoleGateway, model.RoleEastWest} {
				p := c.proxy
				p.Role = role
				old := Translate(c.world, p, testCredentials)
				oldB := allBytes(t, old)
				for iter := 0; iter < 4; iter++ {
					nw, touched := mutateEndpoints(rng, c.world)
					changed, ok := EndpointsOnlyChange(c.world, nw)
					if !ok {
						t.Fatalf("EndpointsOnlyChange rejected an endpoints-only change")
					}
					for k := range changed {
						if !touched[k] {
							t.Fatalf("EndpointsOnlyChange names untouched %v", k)
						}
					}
					if _, ok := EndpointsOnlyChange(c.world, c.world); !ok {
						t.Fatal("EndpointsOnlyChange rejected no change")
					}
					full := Translate(nw, p, testCredentials)
					newB := allBytes(t, full)
					if iter%2 == 1 {
						// Without the index Translate left behind:
						// LoadAssignments builds its own.
						forgetIndexes()
					}
					las := LoadAssignments(nw, p, changed)
					got := map[string]string{}
					for _, cla := range las {
						got[cla.GetClusterName()] = marshalDet(t, cla)
					}
					for name, b := range got {
						if want, ok := newB[3][name]; !ok || want != b {
							t.Fatalf("LoadAssignments %s differs from Translate's (present %v)", name, ok)
						}
					}
					for kind := 0; kind < 3; kind++ {
						if fmt.Sprint(oldB[kind]) != fmt.Sprint(newB[kind]) {
							t.Fatalf("resource kind %d changed on an endpoints-only change", kind)
						}
					}
					if len(oldB[3]) != len(newB[3]) {
						t.Fatalf("load assignment set changed: %d → %d", len(oldB[3]), len(newB[3]))
					}
					for name, b := range newB[3] {
						if oldB[3][name] != b {
							diffs++
							if _, ok := got[name]; !ok {
								t.Fatalf("load assignment %s changed but LoadAssignments did not return it", name)
							}
						}
					}
				}
			}
		})
	}
	if diffs < 50 {
		t.Fatalf("only %d load assignments changed over all cases; the test is not exercising the fast path", diffs)
	}
	t.Logf("%d changed load assignments checked", diffs)
}

// TestFastIndexKeepsNoOldWorld: after an endpoints-only change, the index
// Translate left behind serves the new world without keeping the old one
// (and its endpoints) alive.
func TestFastIndexKeepsNoOldWorld(t *testing.T) {
	spec := benchWorldSpec(20, 3)
	old := model.NewSnapshot(spec)
	Translate(old, benchProxy, Credentials{})
	spec.Services[4].Endpoints[1].Ready = false
	nw := model.NewSnapshot(spec)
	changed, ok := EndpointsOnlyChange(old, nw)
	if !ok || len(changed) != 1 {
		t.Fatalf("EndpointsOnlyChange = %v, %v", changed, ok)
	}
	fast.mu.Lock()
	ix := fast.indexes[fast.root(nw)][benchProxy.ClassKey()]
	fast.mu.Unlock()
	if ix == nil {
		t.Fatal("Translate left no index for the new world's run")
	}
	gone := weak.Make(old)
	old = nil
	runtime.GC()
	if gone.Value() != nil {
		t.Error("the old world is still alive")
	}
	if las := LoadAssignments(nw, benchProxy, changed); len(las) != 1 {
		t.Fatalf("got %d load assignments, want 1", len(las))
	}
	fast.mu.Lock()
	again := fast.indexes[fast.root(nw)][benchProxy.ClassKey()]
	fast.mu.Unlock()
	if again != ix {
		t.Error("LoadAssignments indexed the world again")
	}
}
