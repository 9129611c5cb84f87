package status

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/translator"
)

func TestGatewayClassStatus(t *testing.T) {
	features := []gwv1.SupportedFeature{{Name: "Gateway"}, {Name: "HTTPRoute"}}
	accepted := translator.GatewayClassStatus{Name: "causeway", SupportedFeatures: features, Conditions: []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "Accepted message"}}}
	invalid := translator.GatewayClassStatus{Name: "causeway", SupportedFeatures: features, Conditions: []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionFalse, Reason: "InvalidParameters", Message: "InvalidParameters message"}}}
	// What the API server's defaulting puts on a new GatewayClass.
	pending := cond("Accepted", metav1.ConditionUnknown, "Pending", 0, then)
	other := cond("SupportedVersion", metav1.ConditionTrue, "SupportedVersion", 1, then)
	for _, tc := range []struct {
		name string
		live gwv1.GatewayClassStatus
		st   translator.GatewayClassStatus
		want gwv1.GatewayClassStatus
	}{
		{"first write replaces Pending", gwv1.GatewayClassStatus{Conditions: []metav1.Condition{pending}}, accepted,
			gwv1.GatewayClassStatus{Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 3, now)}, SupportedFeatures: features}},
		{"unchanged status keeps its time; other types stay",
			gwv1.GatewayClassStatus{Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 2, then), other},
				SupportedFeatures: []gwv1.SupportedFeature{{Name: "Gateway"}}}, accepted,
			gwv1.GatewayClassStatus{Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 3, then), other}, SupportedFeatures: features}},
		{"invalid parameters", gwv1.GatewayClassStatus{Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 2, then)}}, invalid,
			gwv1.GatewayClassStatus{Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionFalse, "InvalidParameters", 3, now)}, SupportedFeatures: features}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, gatewayClassStatus(tc.live, tc.st, 3, now)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
