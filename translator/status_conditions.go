package translator

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
)

// Conditions of Causeway's own kinds (VirtualDestination, ExternalService,
// FailoverPolicy, OutlierDetectionPolicy, Workspace). The legacy
// status.state and status.message are derived from them by summarize, so
// both always tell the same story.

// maxListed bounds the items one condition message lists (conflicts,
// ignored fields): a message stays readable and far below the API's limit.
const maxListed = 8

// joinBounded joins msgs with "; ", listing at most maxListed and
// counting the rest.
func joinBounded(msgs []string) string {
	if len(msgs) <= maxListed {
		return strings.Join(msgs, "; ")
	}
	return strings.Join(msgs[:maxListed], "; ") + fmt.Sprintf("; and %d more", len(msgs)-maxListed)
}

// lostClaimsCondition is Conflicted True (reason Conflicted) with the lost
// claims, or False (NoConflicts) when there are none.
func lostClaimsCondition(lost []string, none string) metav1.Condition {
	if len(lost) > 0 {
		return condition(v1alpha1.ConditionConflicted, true, v1alpha1.ReasonConflicted, joinBounded(lost))
	}
	return condition(v1alpha1.ConditionConflicted, false, v1alpha1.ReasonNoConflicts, none)
}

// acceptedCondition is Accepted True: reason Accepted, or PartiallyInvalid
// listing the ignored fields when there are any.
func acceptedCondition(msg string, ignored []string) metav1.Condition {
	if len(ignored) > 0 {
		return condition(v1alpha1.ConditionAccepted, true, v1alpha1.ReasonPartiallyInvalid, joinBounded(ignored)+"; the rest is in use")
	}
	return condition(v1alpha1.ConditionAccepted, true, v1alpha1.ReasonAccepted, msg)
}

// notAccepted is Accepted False with reason and message.
func notAccepted(reason, msg string) metav1.Condition {
	return condition(v1alpha1.ConditionAccepted, false, reason, msg)
}

// summarize derives the legacy state and message from conditions:
// INVALID with Accepted's message when Accepted is False; WARNING with
// what is off (Accepted reason other than Accepted, Conflicted True,
// ResolvedRefs False, in that order) when anything is; else ACCEPTED with
// the message of the condition of type okType (what users of the kind
// most want to read when all is well).
func summarize(conds []metav1.Condition, okType string) (state, message string) {
	acc := meta.FindStatusCondition(conds, v1alpha1.ConditionAccepted)
	if acc == nil || acc.Status != metav1.ConditionTrue {
		msg := ""
		if acc != nil {
			msg = acc.Message
		}
		return StateInvalid, msg
	}
	var warnings []string
	if acc.Reason != v1alpha1.ReasonAccepted {
		warnings = append(warnings, acc.Message)
	}
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionConflicted); c != nil && c.Status == metav1.ConditionTrue {
		warnings = append(warnings, c.Message)
	}
	rr := meta.FindStatusCondition(conds, v1alpha1.ConditionResolvedRefs)
	if rr != nil && rr.Status != metav1.ConditionTrue {
		warnings = append(warnings, rr.Message)
	}
	if len(warnings) > 0 {
		return StateWarning, strings.Join(warnings, "; ")
	}
	if ok := meta.FindStatusCondition(conds, okType); ok != nil {
		return StateAccepted, ok.Message
	}
	return StateAccepted, acc.Message
}

// diagnosticMessages renders diagnostics as "field: message".
func diagnosticMessages(ds []Diagnostic) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Field+": "+d.Message)
	}
	return out
}
