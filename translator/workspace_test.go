package translator

import (
	"slices"
	"testing"

	"github.com/causeway-dev/causeway/model"
)

// testWorkspaces: team-a owns bookinfo everywhere and shop only in
// cluster-1; team-b owns every namespace of cluster-2 and imports from
// team-a, which exports to it; team-c imports from everyone, but nobody
// exports to it; zz-all matches every namespace and is last by name.
func testWorkspaces() *workspaces {
	return newWorkspaces(model.NewSnapshot(model.World{Workspaces: []model.Workspace{
		{Name: "zz-all", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "*"}}},
		{Name: "team-b", Namespaces: []model.WorkspaceNamespace{{Cluster: "cluster-2", Namespace: "*"}}, ImportFrom: []string{"team-a"}},
		{Name: "team-a", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "bookinfo"}, {Cluster: "cluster-1", Namespace: "shop"}},
			ExportTo: []string{"team-b"}},
		{Name: "team-c", Namespaces: []model.WorkspaceNamespace{{Cluster: "cluster-3", Namespace: "web"}}, ImportFrom: []string{"*"}},
	}}))
}

func TestWorkspaceMembership(t *testing.T) {
	ws := testWorkspaces()
	for _, tc := range []struct {
		name      string
		cluster   string // "" for a config object (not bound to a cluster)
		namespace string
		want      string
		wantOK    bool
	}{
		{"config object by namespace pattern", "", "bookinfo", "team-a", true},
		// team-a names shop only in cluster-1, but config objects match in any cluster.
		{"config object matches a cluster-bound pattern", "", "shop", "team-a", true},
		// team-b matches every namespace (of cluster-2): first by name wins over zz-all.
		{"config object first workspace by name", "", "other", "team-b", true},
		{"service by namespace in any cluster", "cluster-3", "bookinfo", "team-a", true},
		{"service needs its cluster to match", "cluster-3", "shop", "zz-all", true},
		{"service cluster-bound pattern", "cluster-1", "shop", "team-a", true},
		{"service cluster wildcard namespace", "cluster-2", "shop", "team-b", true},
		{"service falls to catch-all", "cluster-1", "other", "zz-all", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var ok bool
			if tc.cluster == "" {
				got, ok = ws.ofObject(tc.namespace)
			} else {
				got, ok = ws.ofService(&model.Service{Cluster: tc.cluster, Namespace: tc.namespace, Name: "s"})
			}
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got (%q, %v), want (%q, %v)", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestWorkspaceMembershipNone(t *testing.T) {
	ws := newWorkspaces(model.NewSnapshot(model.World{Workspaces: []model.Workspace{
		{Name: "team-a", Namespaces: []model.WorkspaceNamespace{{Cluster: "cluster-1", Namespace: "bookinfo"}}},
	}}))
	if got, ok := ws.ofObject("shop"); ok {
		t.Errorf("ofObject(shop) = %q, want none", got)
	}
	if got, ok := ws.ofService(&model.Service{Cluster: "cluster-2", Namespace: "bookinfo"}); ok {
		t.Errorf("ofService(cluster-2/bookinfo) = %q, want none", got)
	}
	// Without workspaces everything is in the implicit workspace "".
	none := newWorkspaces(model.NewSnapshot(model.World{}))
	if got, ok := none.ofObject("anything"); !ok || got != "" {
		t.Errorf("no workspaces: ofObject = (%q, %v), want (\"\", true)", got, ok)
	}
	if got, ok := none.ofService(&model.Service{Cluster: "c", Namespace: "n"}); !ok || got != "" {
		t.Errorf("no workspaces: ofService = (%q, %v), want (\"\", true)", got, ok)
	}
	if !none.sees("", "") || none.enabled() {
		t.Errorf("no workspaces: want \"\" to see itself and enabled() false")
	}
}

func TestWorkspaceVisibility(t *testing.T) {
	ws := testWorkspaces()
	for _, tc := range []struct {
		viewer, owner   string
		sees, connected bool
	}{
		{"team-a", "team-a", true, true},
		{"team-b", "team-a", true, true},   // b imports a, a exports to b
		{"team-a", "team-b", false, true},  // a does not import b: one-way
		{"team-c", "team-a", false, false}, // c imports everything, a does not export to c
		{"team-a", "team-c", false, false},
		{"zz-all", "team-a", false, false},
		{"team-b", "unknown", false, false},
	} {
		if got := ws.sees(tc.viewer, tc.owner); got != tc.sees {
			t.Errorf("sees(%s, %s) = %v, want %v", tc.viewer, tc.owner, got, tc.sees)
		}
		if got := ws.connected(tc.viewer, tc.owner); got != tc.connected {
			t.Errorf("connected(%s, %s) = %v, want %v", tc.viewer, tc.owner, got, tc.connected)
		}
	}
	// "*" on both sides connects everything.
	star := newWorkspaces(model.NewSnapshot(model.World{Workspaces: []model.Workspace{
		{Name: "x", ImportFrom: []string{"*"}, ExportTo: []string{"*"}},
		{Name: "y", ImportFrom: []string{"*"}, ExportTo: []string{"*"}},
	}}))
	if !star.sees("x", "y") || !star.sees("y", "x") {
		t.Errorf("wildcard import/export: want x and y to see each other")
	}
}

func TestSelectedServicesVisibility(t *testing.T) {
	world := model.World{
		Workspaces: []model.Workspace{
			{Name: "team-a", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "a"}}, ImportFrom: []string{"team-b"}},
			{Name: "team-b", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "b"}}, ExportTo: []string{"team-a"}},
			{Name: "team-c", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "c"}}},
		},
		Services: []model.Service{
			{Cluster: "c1", Namespace: "a", Name: "reviews", Labels: map[string]string{"app": "reviews"}},
			{Cluster: "c1", Namespace: "b", Name: "reviews", Labels: map[string]string{"app": "reviews"}},
			{Cluster: "c1", Namespace: "c", Name: "reviews", Labels: map[string]string{"app": "reviews"}},
			{Cluster: "c1", Namespace: "none", Name: "reviews", Labels: map[string]string{"app": "reviews"}},
		},
		VirtualDestinations: []model.VirtualDestination{
			{Namespace: "a", Name: "r", Hosts: []string{"r.a"}, Ports: []model.VirtualDestinationPort{{Number: 80}}, Services: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}}},
			{Namespace: "b", Name: "r", Hosts: []string{"r.b"}, Ports: []model.VirtualDestinationPort{{Number: 80}}, Services: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}}},
		},
	}
	w := model.NewSnapshot(world)
	claims := claimHostPorts(w)
	for i, want := range [][]string{{"c1/a/reviews", "c1/b/reviews"}, {"c1/b/reviews"}} {
		vd := &w.VirtualDestinations()[i]
		var got []string
		for _, svc := range claims.selectedServices(w, vd) {
			got = append(got, svc.Key().String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s/%s selects %v, want %v", vd.Namespace, vd.Name, got, want)
		}
	}
}
