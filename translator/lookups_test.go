package translator

import (
	"slices"
	"testing"

	"github.com/causeway-dev/causeway/model"
)

// The lookups that replaced passes over every object give what the passes
// gave, also for namespaces that sort between another namespace's keys
// ("a-b/x" sorts before "a/x").
func TestObjectLookups(t *testing.T) {
	var world model.World
	for _, key := range [][2]string{{"a", "z"}, {"a-b", "x"}, {"a", "b"}, {"a.b", "y"}, {"ab", "a"}, {"b", "c"}, {"a", "x"}} {
		world.VirtualDestinations = append(world.VirtualDestinations, model.VirtualDestination{Namespace: key[0], Name: key[1]})
		for _, c := range []string{"c2", "c1", "c1-x"} {
			if key[1] != "z" || c == "c2" {
				world.Services = append(world.Services, model.Service{Cluster: c, Namespace: key[0], Name: key[1]})
			}
		}
	}
	w := model.NewSnapshot(world)
	for _, tc := range []struct {
		ns, name string
		vd       bool
		clusters []string // in snapshot order: "c1-x/…" sorts before "c1/…"
	}{
		{"a", "z", true, []string{"c2"}},
		{"a", "x", true, []string{"c1-x", "c1", "c2"}},
		{"a-b", "x", true, []string{"c1-x", "c1", "c2"}},
		{"a.b", "y", true, []string{"c1-x", "c1", "c2"}},
		{"a", "y", false, nil},
		{"b", "x", false, nil},
		{"", "", false, nil},
		{"a", "", false, nil},
		{"", "x", false, nil},
	} {
		vd := virtualDestination(w, tc.ns, tc.name)
		if (vd != nil) != tc.vd || vd != nil && (vd.Namespace != tc.ns || vd.Name != tc.name) {
			t.Errorf("virtualDestination(%s/%s) = %+v, want found=%v", tc.ns, tc.name, vd, tc.vd)
		}
		if got := serviceClustersOf(w, tc.ns, tc.name); !slices.Equal(got, tc.clusters) {
			t.Errorf("serviceClustersOf(%s/%s) = %q, want %q", tc.ns, tc.name, got, tc.clusters)
		}
	}
}
