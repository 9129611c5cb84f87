package xds

import (
	"math/rand/v2"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// countTranslations counts the server's full translations.
func countTranslations(s *Server) *int {
	n := new(int)
	s.translate = func(w *model.Snapshot, p model.Proxy, c translator.Credentials, emit func(*endpointv3.ClusterLoadAssignment)) *translator.Resources {
		*n++
		return translator.TranslateStreaming(w, p, c, emit)
	}
	return n
}

// checkMatchesFull fails unless c's published snapshot has the per-type
// versions (hence contents) a full translation of world gives.
func checkMatchesFull(t *testing.T, s *Server, c *class, world *model.Snapshot) {
	t.Helper()
	creds, _, err := s.credentialsLocked(c.proxy, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := newSnapshot(translator.Translate(world, c.proxy, creds))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.cache.GetSnapshot(c.key)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range snapshotTypes {
		if g, w := got.GetVersion(typ), want.GetVersion(typ); g != w {
			t.Errorf("%s version %s, full translation gives %s", typ, g, w)
		}
		gm, wm := got.GetVersionMap(typ), want.GetVersionMap(typ)
		if len(gm) != len(wm) {
			t.Errorf("%s: %d resources, full translation gives %d", typ, len(gm), len(wm))
		}
		for name, v := range wm {
			if gm[name] != v {
				t.Errorf("%s %q version %q, full translation gives %q", typ, name, gm[name], v)
			}
		}
	}
	if got.Bytes() != want.Bytes() {
		t.Errorf("snapshot bytes %d, full translation gives %d", got.Bytes(), want.Bytes())
	}
}

// Random endpoint changes take the fast path and publish exactly what a
// full translation would, for gateway and east-west classes.
func TestEndpointFastPathMatchesFullTranslation(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	spec := benchWorldSpec(20, 4)
	store := &model.Store{}
	store.Publish(model.NewSnapshot(spec))
	s, gw := benchServer(t, store)
	ew := addClass(t, s, model.Proxy{Role: model.RoleEastWest, Cluster: "c2"})
	full := countTranslations(s)
	for round := 0; round < 30; round++ {
		for k := 0; k < 1+rng.IntN(3); k++ {
			svc := &spec.Services[rng.IntN(len(spec.Services))]
			switch rng.IntN(3) {
			case 0:
				if len(svc.Endpoints) > 0 {
					e := &svc.Endpoints[rng.IntN(len(svc.Endpoints))]
					e.Ready = !e.Ready
				}
			case 1:
				eps := append([]model.Endpoint(nil), svc.Endpoints...)
				if len(eps) > 0 {
					svc.Endpoints = eps[:len(eps)-1]
				}
			case 2:
				e := model.Endpoint{Address: "10.9.9." + string(rune('0'+round%10)), Ready: true,
					Ports: []model.EndpointPort{{Name: "http", Port: 8080}}}
				svc.Endpoints = append(append([]model.Endpoint(nil), svc.Endpoints...), e)
			}
		}
		world := model.NewSnapshot(spec)
		store.Publish(world)
		s.rebuildAll()
		s.mu.Lock()
		checkMatchesFull(t, s, gw, world)
		checkMatchesFull(t, s, ew, world)
		s.mu.Unlock()
		if t.Failed() {
			t.Fatalf("round %d", round)
		}
	}
	if *full != 0 {
		t.Errorf("%d full translations for endpoint-only changes, want 0", *full)
	}

	// A structural change takes the full path.
	spec.VirtualDestinations = spec.VirtualDestinations[1:]
	world := model.NewSnapshot(spec)
	store.Publish(world)
	s.rebuildAll()
	if *full != 2 {
		t.Errorf("%d full translations after a structural change, want 2 (one per class)", *full)
	}
	s.mu.Lock()
	checkMatchesFull(t, s, gw, world)
	s.mu.Unlock()
}

// The harness world (a Gateway routing to a VirtualDestination in two
// clusters) through the fast path.
func TestEndpointFastPathGateway(t *testing.T) {
	store := &model.Store{}
	store.Publish(testWorld(worldOptions{}))
	s, _ := benchServer(t, store)
	c := addClass(t, s, gatewayProxy)
	full := countTranslations(s)
	before := c.snap
	for _, o := range []worldOptions{{extraEndpoint: true}, {}, {extraEndpoint: true}} {
		world := testWorld(o)
		store.Publish(world)
		s.rebuildAll()
		s.mu.Lock()
		checkMatchesFull(t, s, c, world)
		s.mu.Unlock()
	}
	if *full != 0 {
		t.Errorf("%d full translations, want 0", *full)
	}
	for _, typ := range snapshotTypes {
		if typ == "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment" {
			if c.snap.GetVersion(typ) == before.GetVersion(typ) {
				t.Error("endpoint version unchanged")
			}
			continue
		}
		if c.snap.set(typ) != before.set(typ) {
			t.Errorf("%s resources not shared with the previous snapshot", typ)
		}
	}
}

// histogramCount is the sample count of the histogram name with labels.
func (h *harness) histogramCount(name string, labels map[string]string) uint64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; !ok || v != lp.GetValue() {
					continue next
				}
			}
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}
