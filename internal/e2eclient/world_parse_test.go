package e2eclient

import (
	"net"
	"sort"
	"strings"
	"testing"

	"github.com/causeway-dev/causeway/discovery/file"
)

// TestWorldParses keeps the world and the constants the tests count with
// in step, without Envoy or root: a typo would otherwise show up only as a
// confusing traffic failure.
func TestWorldParses(t *testing.T) {
	for _, ready := range []bool{true, false} {
		snap, err := file.Parse("world.yaml", renderWorld(worldParams{Cluster1Ready: ready}))
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, svc := range snap.Services() {
			if svc.Name != "app" {
				continue
			}
			for _, ep := range svc.Endpoints {
				got = append(got, svc.Cluster+" "+net.JoinHostPort(ep.Address, "9080"))
				if wantReady := svc.Cluster != "cluster-1" || ready; ep.Ready != wantReady {
					t.Errorf("Cluster1Ready=%v: %s endpoint %s ready=%v, want %v", ready, svc.Cluster, ep.Address, ep.Ready, wantReady)
				}
			}
		}
		for _, b := range appBackends {
			want = append(want, b.Cluster+" "+b.Address)
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Errorf("app endpoints in the world: %v; backends started: %v", got, want)
		}
		hosts := map[string]bool{}
		for _, vd := range snap.VirtualDestinations() {
			for _, h := range vd.Hosts {
				hosts[h] = true
			}
		}
		for _, h := range []string{appHost, spreadHost, splitHost, greeterHost} {
			if !hosts[h] {
				t.Errorf("no VirtualDestination has host %s (hosts: %v)", h, hosts)
			}
		}
		policies := snap.OutlierDetectionPolicies()
		if len(policies) != 1 || policies[0].Spec.Config.ConsecutiveErrorsOrDefault() != outlierConsecutiveErrors {
			t.Errorf("want one OutlierDetectionPolicy with consecutiveErrors %d, got %d policies", outlierConsecutiveErrors, len(policies))
		}
		routes := snap.HTTPRoutes()
		if len(routes) != 1 || len(routes[0].Spec.Rules) != 1 || len(routes[0].Spec.Rules[0].BackendRefs) != 2 {
			t.Fatalf("want one HTTPRoute with one rule of two backendRefs")
		}
		refs := routes[0].Spec.Rules[0].BackendRefs
		if string(refs[0].Name) != fedHost1 || *refs[0].Weight != splitWeight1 || string(refs[1].Name) != fedHost2 || *refs[1].Weight != splitWeight2 {
			t.Errorf("split route backendRefs %s/%d %s/%d, want %s/%d %s/%d", refs[0].Name, *refs[0].Weight, refs[1].Name, *refs[1].Weight,
				fedHost1, splitWeight1, fedHost2, splitWeight2)
		}
	}
}
