package translator

import (
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
