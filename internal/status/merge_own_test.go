package status

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/translator"
)

func TestPolicyStatus(t *testing.T) {
	var refs []v1alpha1.DestinationReference
	for i := range v1alpha1.MaxAttachedTo + 8 {
		refs = append(refs, v1alpha1.DestinationReference{Namespace: "bookinfo", Name: fmt.Sprintf("vd-%02d", i)})
	}
	st := translator.PolicyStatus{
		ObjectStatus: translator.ObjectStatus{Namespace: "bookinfo", Name: "p", State: "WARNING", Message: "m",
			Conditions: []metav1.Condition{
				{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "Accepted message"},
				{Type: "Conflicted", Status: metav1.ConditionTrue, Reason: "Conflicted", Message: "Conflicted message"},
			}},
		AttachedTo: refs,
	}
	// Live: Accepted unchanged since then, Conflicted was False, and a
	// condition type Causeway no longer sets.
	live := v1alpha1.DestinationPolicyStatus{PolicyStatus: v1alpha1.PolicyStatus{Conditions: []metav1.Condition{
		cond("Accepted", metav1.ConditionTrue, "Accepted", 1, then),
		cond("Conflicted", metav1.ConditionFalse, "NoConflicts", 1, then),
		cond("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", 1, then),
	}}}
	got := policyStatus(st, live, 2, now)
	want := v1alpha1.DestinationPolicyStatus{
		PolicyStatus: v1alpha1.PolicyStatus{State: "WARNING", Message: "m", ObservedGeneration: 2, Conditions: []metav1.Condition{
			cond("Accepted", metav1.ConditionTrue, "Accepted", 2, then),
			cond("Conflicted", metav1.ConditionTrue, "Conflicted", 2, now),
		}},
		AttachedDestinations: int32(v1alpha1.MaxAttachedTo + 8),
		AttachedTo:           refs[:v1alpha1.MaxAttachedTo],
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policy status (-want +got):\n%s", diff)
	}
	// Writing it again changes nothing: the writer then sends nothing.
	if again := policyStatus(st, got, 2, now); !cmp.Equal(got, again) {
		t.Errorf("status not stable: %v", cmp.Diff(got, again))
	}
}
