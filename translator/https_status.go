package translator

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// indexed returns listener i of gw as checked by the index (false when it
// is not usable: it has a problem instead).
func (idx *gatewayIndex) indexed(gw *model.Gateway, i int) (gwListener, bool) {
	for _, l := range idx.listeners[gw] {
		if l.index == i {
			return l, true
		}
	}
	return gwListener{}, false
}

// unresolvedListenerConditions are the conditions of a usable listener
// whose certificateRefs do not resolve: still Accepted (the Gateway API
// keeps Accepted for what the listener's own fields say, and routes
// attach to it and count), but not Programmed, and ResolvedRefs False
// with RefNotPermitted or InvalidCertificateRef.
func unresolvedListenerConditions(p *refProblem) []metav1.Condition {
	return []metav1.Condition{
		condition(string(gwv1.ListenerConditionAccepted), true, gwv1.ListenerReasonAccepted, "listener accepted"),
		condition(string(gwv1.ListenerConditionProgrammed), false, gwv1.ListenerReasonInvalid, "not served: "+p.message),
		condition(string(gwv1.ListenerConditionResolvedRefs), false, p.reason, p.message),
	}
}

// conflictedCondition is the Conflicted condition of a listener that
// conflicts with others on its port (none for other problems).
func conflictedCondition(p listenerProblem) []metav1.Condition {
	if p.conflict == "" {
		return nil
	}
	return []metav1.Condition{condition(string(gwv1.ListenerConditionConflicted), true, p.conflict, p.message)}
}
