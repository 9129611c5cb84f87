package translator

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

func TestAgeOlderThan(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a, b model.Age
		want bool
	}{
		{"earlier timestamp", model.Age{CreationTimestamp: t0}, model.Age{CreationTimestamp: t0.Add(time.Second)}, true},
		{"later timestamp", model.Age{CreationTimestamp: t0.Add(time.Second)}, model.Age{CreationTimestamp: t0}, false},
		{"timestamp beats none", model.Age{CreationTimestamp: t0, Seq: 9}, model.Age{Seq: 0}, true},
		{"none loses to timestamp", model.Age{Seq: 0}, model.Age{CreationTimestamp: t0}, false},
		{"same timestamp, lower seq", model.Age{CreationTimestamp: t0, Seq: 1}, model.Age{CreationTimestamp: t0, Seq: 2}, true},
		{"document order", model.Age{Seq: 1}, model.Age{Seq: 2}, true},
		{"equal is not older", model.Age{Seq: 3}, model.Age{Seq: 3}, false},
	} {
		if got := tc.a.OlderThan(tc.b); got != tc.want {
			t.Errorf("%s: OlderThan = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// vd is a VirtualDestination serving host on port 80 with the given age.
func claimVD(ns, name, host string, age model.Age) model.VirtualDestination {
	return model.VirtualDestination{Namespace: ns, Name: name, Hosts: []string{host},
		Ports: []model.VirtualDestinationPort{{Number: 80}}, Age: age}
}

// claimOutcomes describes every claim: "Kind ns/name host:port" → the
// standing claim's cluster name, or "lost to <winner>".
func claimOutcomes(w *model.Snapshot) map[string]string {
	c := claimHostPorts(w)
	out := map[string]string{}
	for hp, winners := range c.winners {
		for _, cl := range winners {
			out[fmt.Sprintf("%s %s:%d", cl.object, hp.host, hp.port)] = cl.destination().ClusterName()
		}
	}
	vds := w.VirtualDestinations()
	for i := range vds {
		vd := &vds[i]
		if winner, lost := c.lost[claimKey{vd, 0, 0}]; lost {
			out[fmt.Sprintf("%s %s:80", vdObject(vd), vd.Hosts[0])] = "lost to " + winner.object
		}
	}
	for _, es := range w.ExternalServices() {
		if winner, lost := c.lost[claimKey{es, 0, 0}]; lost {
			out[fmt.Sprintf("ExternalService %s/%s %s:80", es.Namespace, es.Name, es.Spec.Hosts[0])] = "lost to " + winner.object
		}
	}
	return out
}

func TestClaimsOlderWins(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ws := func(name, ns string, imports, exports []string) model.Workspace {
		return model.Workspace{Name: name, Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: ns}}, ImportFrom: imports, ExportTo: exports}
	}
	external := func(ns, name, host string, created time.Time) *model.ExternalService {
		return &model.ExternalService{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(created)},
			Spec: v1alpha1.ExternalServiceSpec{Hosts: []string{host}, Ports: []v1alpha1.ExternalServicePort{{Number: 80, Name: "http"}},
				Endpoints: []v1alpha1.ExternalEndpoint{{Address: "10.0.0.1"}}},
		}
	}
	for _, tc := range []struct {
		name  string
		world model.World
		want  map[string]string
	}{{
		// Document order decides, not namespace/name order.
		name: "older by document order wins over first by name",
		world: model.World{VirtualDestinations: []model.VirtualDestination{
			claimVD("b", "x", "h", model.Age{Seq: 0}), claimVD("a", "y", "h", model.Age{Seq: 1}),
		}},
		want: map[string]string{
			"VirtualDestination b/x h:80": "outbound|80||h",
			"VirtualDestination a/y h:80": "lost to VirtualDestination b/x",
		},
	}, {
		name: "same age: namespace/name breaks the tie",
		world: model.World{VirtualDestinations: []model.VirtualDestination{
			claimVD("b", "x", "h", model.Age{}), claimVD("a", "y", "h", model.Age{}),
		}},
		want: map[string]string{
			"VirtualDestination a/y h:80": "outbound|80||h",
			"VirtualDestination b/x h:80": "lost to VirtualDestination a/y",
		},
	}, {
		name: "creation timestamp beats document order",
		world: model.World{VirtualDestinations: []model.VirtualDestination{
			claimVD("a", "first", "h", model.Age{CreationTimestamp: t0.Add(time.Hour), Seq: 0}),
			claimVD("a", "second", "h", model.Age{CreationTimestamp: t0, Seq: 1}),
		}},
		want: map[string]string{
			"VirtualDestination a/second h:80": "outbound|80||h",
			"VirtualDestination a/first h:80":  "lost to VirtualDestination a/second",
		},
	}, {
		name: "same workspace conflicts",
		world: model.World{
			Workspaces: []model.Workspace{ws("team-a", "*", nil, nil)},
			VirtualDestinations: []model.VirtualDestination{
				claimVD("a1", "new", "h", model.Age{Seq: 2}), claimVD("a2", "old", "h", model.Age{Seq: 1}),
			},
		},
		want: map[string]string{
			"VirtualDestination a2/old h:80": "outbound|80||h|team-a",
			"VirtualDestination a1/new h:80": "lost to VirtualDestination a2/old",
		},
	}, {
		name: "unconnected workspaces both serve",
		world: model.World{
			Workspaces: []model.Workspace{ws("team-a", "a", nil, []string{"team-b"}), ws("team-b", "b", nil, nil)},
			VirtualDestinations: []model.VirtualDestination{
				claimVD("a", "r", "h", model.Age{Seq: 1}), claimVD("b", "r", "h", model.Age{Seq: 2}),
			},
		},
		want: map[string]string{
			"VirtualDestination a/r h:80": "outbound|80||h|team-a",
			"VirtualDestination b/r h:80": "outbound|80||h|team-b",
		},
	}, {
		name: "import/export pair conflicts",
		world: model.World{
			Workspaces: []model.Workspace{ws("team-a", "a", nil, []string{"team-b"}), ws("team-b", "b", []string{"team-a"}, nil)},
			VirtualDestinations: []model.VirtualDestination{
				claimVD("a", "r", "h", model.Age{Seq: 2}), claimVD("b", "r", "h", model.Age{Seq: 1}),
			},
		},
		want: map[string]string{
			"VirtualDestination b/r h:80": "outbound|80||h|team-b",
			"VirtualDestination a/r h:80": "lost to VirtualDestination b/r",
		},
	}, {
		// a↔b and b↔c are connected, a and c are not: a (oldest) beats b;
		// c only conflicts with standing claims, so it stands beside a.
		name: "conflicts are not transitive",
		world: model.World{
			Workspaces: []model.Workspace{
				ws("team-a", "a", nil, []string{"team-b"}),
				ws("team-b", "b", []string{"team-a", "team-c"}, nil),
				ws("team-c", "c", nil, []string{"team-b"}),
			},
			VirtualDestinations: []model.VirtualDestination{
				claimVD("a", "r", "h", model.Age{Seq: 1}), claimVD("b", "r", "h", model.Age{Seq: 2}), claimVD("c", "r", "h", model.Age{Seq: 3}),
			},
		},
		want: map[string]string{
			"VirtualDestination a/r h:80": "outbound|80||h|team-a",
			"VirtualDestination b/r h:80": "lost to VirtualDestination a/r",
			"VirtualDestination c/r h:80": "outbound|80||h|team-c",
		},
	}, {
		name: "VirtualDestination and ExternalService: older wins",
		world: model.World{
			VirtualDestinations: []model.VirtualDestination{claimVD("a", "vd", "h", model.Age{CreationTimestamp: t0.Add(time.Minute)})},
			ExternalServices:    []*model.ExternalService{external("a", "ext", "h", t0)},
		},
		want: map[string]string{
			"ExternalService a/ext h:80":   "outbound|80||h",
			"VirtualDestination a/vd h:80": "lost to ExternalService a/ext",
		},
	}, {
		// The ExternalService has no document position: at equal (no)
		// timestamps the VirtualDestination, later in the file and after
		// it by name, still counts as older.
		name: "ExternalService without timestamp after VirtualDestination",
		world: model.World{
			VirtualDestinations: []model.VirtualDestination{claimVD("b", "vd", "h", model.Age{Seq: 7})},
			ExternalServices:    []*model.ExternalService{external("a", "ext", "h", time.Time{})},
		},
		want: map[string]string{
			"VirtualDestination b/vd h:80": "outbound|80||h",
			"ExternalService a/ext h:80":   "lost to VirtualDestination b/vd",
		},
	}, {
		name: "a federated hostname wins over an older VirtualDestination",
		world: model.World{
			Workspaces: []model.Workspace{{Name: "team-a", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "a"}},
				Federation: &model.Federation{HostSuffix: "global"}}},
			Services: []model.Service{{Cluster: "c1", Namespace: "a", Name: "s", Ports: []model.ServicePort{{Port: 80}}}},
			VirtualDestinations: []model.VirtualDestination{
				claimVD("a", "vd", "s.a.svc.c1.global", model.Age{CreationTimestamp: t0}),
			},
		},
		want: map[string]string{
			"federated Service a/s of cluster c1 (Workspace team-a) s.a.svc.c1.global:80": "outbound|80||s.a.svc.c1.global|team-a",
			"VirtualDestination a/vd s.a.svc.c1.global:80":                                "lost to federated Service a/s of cluster c1 (Workspace team-a)",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := claimOutcomes(model.NewSnapshot(tc.world))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClaimOrderIsTotal checks precedes over a mix of ages, with and
// without timestamps and document positions: a strict total order, so
// sorting does not depend on input order.
func TestClaimOrderIsTotal(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var claims []*claim
	for i, a := range []struct {
		ts    time.Time
		seq   int
		noSeq bool
		ns    string
	}{
		{time.Time{}, 1, false, "c"}, {time.Time{}, 2, false, "a"}, {time.Time{}, 0, true, "b"},
		{t0, 0, true, "a"}, {t0, 3, false, "z"}, {t0.Add(time.Hour), 0, true, "a"}, {time.Time{}, 0, true, "a"},
	} {
		claims = append(claims, &claim{key: claimKey{obj: i}, age: model.Age{CreationTimestamp: a.ts, Seq: a.seq}, noSeq: a.noSeq,
			namespace: a.ns, name: "n", object: fmt.Sprint("X ", a.ns, i)})
	}
	for _, a := range claims {
		if a.precedes(a) {
			t.Errorf("%s precedes itself", a.object)
		}
		for _, b := range claims {
			if a != b && a.precedes(b) == b.precedes(a) {
				t.Errorf("%s and %s: exactly one must precede", a.object, b.object)
			}
			for _, c := range claims {
				if a.precedes(b) && b.precedes(c) && !a.precedes(c) {
					t.Errorf("not transitive: %s < %s < %s", a.object, b.object, c.object)
				}
			}
		}
	}
}

// TestResolveHost: a route gets the oldest standing claim among those its
// workspace sees; hidden lists the workspaces of the others.
func TestResolveHost(t *testing.T) {
	spaces := []model.Workspace{
		{Name: "w", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "w"}}, ImportFrom: []string{"x", "y"}},
		{Name: "x", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "x"}}, ExportTo: []string{"w"}},
		{Name: "y", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "y"}}, ExportTo: []string{"w"}},
		{Name: "z", Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "z"}}},
	}
	for _, tc := range []struct {
		name       string
		vds        []model.VirtualDestination
		viewer     string
		want       string // cluster name, "" when none
		wantHidden []string
	}{{
		// w imports y: connected, so the older claim of y is the only one.
		name: "own claim lost to an imported older one", viewer: "w", want: "outbound|80||h|y",
		vds: []model.VirtualDestination{claimVD("y", "r", "h", model.Age{Seq: 0}), claimVD("w", "r", "h", model.Age{Seq: 9})},
	}, {
		// x and y are unconnected, so both stand; w sees both: the older wins.
		name: "oldest imported", viewer: "w", want: "outbound|80||h|y",
		vds: []model.VirtualDestination{claimVD("x", "r", "h", model.Age{Seq: 2}), claimVD("y", "r", "h", model.Age{Seq: 1})},
	}, {
		name: "not imported", viewer: "z", wantHidden: []string{"y", "x"},
		vds: []model.VirtualDestination{claimVD("x", "r", "h", model.Age{Seq: 2}), claimVD("y", "r", "h", model.Age{Seq: 1})},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := claimHostPorts(model.NewSnapshot(model.World{Workspaces: spaces, VirtualDestinations: tc.vds}))
			dest, ok, hidden := c.resolveHost(tc.viewer, "h", 80)
			got := ""
			if ok {
				got = dest.ClusterName()
			}
			if got != tc.want || !cmp.Equal(hidden, tc.wantHidden) {
				t.Errorf("resolveHost = (%q, %v), want (%q, %v)", got, hidden, tc.want, tc.wantHidden)
			}
		})
	}
}
