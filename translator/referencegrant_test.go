package translator

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/causeway-dev/causeway/model"
)

func TestReferenceAllowed(t *testing.T) {
	name := gwv1beta1.ObjectName("productpage")
	w := model.NewSnapshot(model.World{ReferenceGrants: []*model.ReferenceGrant{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "g"},
		Spec: gwv1beta1.ReferenceGrantSpec{
			From: []gwv1beta1.ReferenceGrantFrom{{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute", Namespace: "gloo-system"}},
			To: []gwv1beta1.ReferenceGrantTo{
				{Group: "core", Kind: "Service", Name: &name},
				{Group: model.APIGroup, Kind: "VirtualDestination"},
			},
		},
	}}})
	for _, tc := range []struct {
		name                          string
		from, group, kind, ns, toName string
		want                          bool
	}{
		{"same namespace needs no grant", "bookinfo", "", "Service", "bookinfo", "anything", true},
		{"granted Service by name, core spelled empty", "gloo-system", "", "Service", "bookinfo", "productpage", true},
		{"other Service name", "gloo-system", "", "Service", "bookinfo", "details", false},
		{"any VirtualDestination", "gloo-system", model.APIGroup, "VirtualDestination", "bookinfo", "reviews", true},
		{"VirtualDestination of another group", "gloo-system", "example.com", "VirtualDestination", "bookinfo", "reviews", false},
		{"from another namespace", "default", model.APIGroup, "VirtualDestination", "bookinfo", "reviews", false},
		{"to another namespace", "gloo-system", model.APIGroup, "VirtualDestination", "ratings", "reviews", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := referenceAllowed(w, "HTTPRoute", tc.from, tc.group, tc.kind, tc.ns, tc.toName); got != tc.want {
				t.Errorf("referenceAllowed(%s → %s/%s %s/%s) = %v, want %v", tc.from, tc.group, tc.kind, tc.ns, tc.toName, got, tc.want)
			}
		})
	}
}

// TestGrantsIn: the binary search finds exactly a namespace's grants,
// also next to namespaces that sort between its grants' keys ("a-b/x"
// sorts before "a/x").
func TestGrantsIn(t *testing.T) {
	var grants []*model.ReferenceGrant
	for _, key := range [][2]string{{"a", "z"}, {"a-b", "x"}, {"a", "b"}, {"a.b", "y"}, {"ab", "a"}, {"b", "c"}, {"a", "a-b"}} {
		grants = append(grants, &model.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: key[0], Name: key[1]}})
	}
	w := model.NewSnapshot(model.World{ReferenceGrants: grants})
	for ns, want := range map[string][]string{
		"a": {"a-b", "b", "z"}, "a-b": {"x"}, "a.b": {"y"}, "ab": {"a"}, "b": {"c"}, "c": nil, "": nil, "0": nil,
	} {
		var got []string
		for _, g := range grantsIn(w, ns) {
			got = append(got, g.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("grantsIn(%q) = %q, want %q", ns, got, want)
		}
	}
}
