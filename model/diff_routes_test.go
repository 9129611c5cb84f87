package model

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func route(ns, name, host string) *HTTPRoute {
	return &HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gwv1.HTTPRouteSpec{Hostnames: []gwv1.Hostname{gwv1.Hostname(host)}}}
}

// HTTPRoutesOnlyDiff names exactly the routes added, removed or changed,
// whether the new snapshot shares unchanged routes (With) or copies them
// (NewSnapshot), in the snapshot's "namespace/name" order (namespaces with
// '-' sort before their prefix's routes); anything else is refused.
func TestHTTPRoutesOnlyDiff(t *testing.T) {
	base := func() World {
		return World{HTTPRoutes: []*HTTPRoute{route("a", "x", "x.test"), route("a-b", "y", "y.test"), route("ab", "z", "z.test"), route("a", "w", "w.test")}}
	}
	old := NewSnapshot(base())
	edited := base()
	edited.HTTPRoutes[1] = route("a-b", "y", "changed.test")
	added := base()
	added.HTTPRoutes = append(added.HTTPRoutes, route("a-", "new", "n.test"))
	removed := base()
	removed.HTTPRoutes = removed.HTTPRoutes[1:]
	kube := base()
	for _, r := range kube.HTTPRoutes {
		r.UID, r.ResourceVersion = types.UID("uid-"+r.Name), "7"
	}
	kubeOld := NewSnapshot(kube)
	kube.HTTPRoutes[2] = route("ab", "z", "z2.test")
	kube.HTTPRoutes[2].UID, kube.HTTPRoutes[2].ResourceVersion = "uid-z", "8"
	other := base()
	other.Gateways = []*Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "gw"}}}
	dup := base()
	dup.HTTPRoutes = append(dup.HTTPRoutes, route("a", "x", "again.test"))
	with, ok := old.With(Changes{HTTPRoutes: []*HTTPRoute{route("a-b", "y", "changed.test")}})
	if !ok {
		t.Fatal("With refused an existing route")
	}
	if _, ok := old.With(Changes{HTTPRoutes: []*HTTPRoute{route("a", "missing", "m.test")}}); ok {
		t.Fatal("With took a route the snapshot lacks")
	}
	for _, tc := range []struct {
		name     string
		old, new *Snapshot
		want     []string // nil with ok false
	}{
		{"same snapshot", old, old, []string{}},
		{"copied, unchanged", old, NewSnapshot(base()), []string{}},
		{"one changed", old, NewSnapshot(edited), []string{"a-b/y"}},
		{"one changed, shared by With", old, with, []string{"a-b/y"}},
		{"one added", old, NewSnapshot(added), []string{"a-/new"}},
		{"one removed", old, NewSnapshot(removed), []string{"a/x"}},
		{"kubernetes resourceVersions", kubeOld, NewSnapshot(kube), []string{"ab/z"}},
		{"a Gateway added", old, NewSnapshot(other), nil},
		{"a name twice", old, NewSnapshot(dup), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := HTTPRoutesOnlyDiff(tc.old, tc.new)
			if ok != (tc.want != nil) {
				t.Fatalf("ok = %v, want %v", ok, tc.want != nil)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("changed %v, want %v", got, tc.want)
			}
			for _, k := range tc.want {
				if !got[k] {
					t.Fatalf("changed %v, want %v", got, tc.want)
				}
				if tc.new.HTTPRoute(k) == nil && tc.old.HTTPRoute(k) == nil {
					t.Fatalf("HTTPRoute(%q) found in neither snapshot", k)
				}
			}
		})
	}
	for i, r := range with.HTTPRoutes() {
		if shared := r == old.HTTPRoutes()[i]; shared != (RouteKey(r) != "a-b/y") {
			t.Errorf("route %s: shared with the old snapshot %v", RouteKey(r), shared)
		}
	}
}
