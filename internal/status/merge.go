package status

import (
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/translator"
)

// Pure functions that turn a translator status and the live object's status
// into the status to write. Writing happens only when the result differs
// from the live status; lastTransitionTime is kept where a condition's status
// is unchanged, so an unchanged object compares equal.

// maxMessage is the API's limit on a condition message.
const maxMessage = 32768

func truncate(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage - len("...")
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut] + "..."
}

// mergeConditions returns live with every desired condition set: observed
// generation gen; lastTransitionTime kept when the type exists with the same
// status, else now. Condition types Causeway does not set stay as they are.
func mergeConditions(live, desired []metav1.Condition, gen int64, now metav1.Time) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(live)+len(desired))
	for _, c := range live {
		out = append(out, *c.DeepCopy())
	}
	for _, c := range desired {
		c.ObservedGeneration = gen
		c.Message = truncate(c.Message)
		c.LastTransitionTime = now
		meta.SetStatusCondition(&out, c)
	}
	return out
}

// ownConditions returns exactly the desired conditions, for status entries
// that belong to Causeway alone (its HTTPRoute parents, Gateway listeners):
// lastTransitionTime kept from old when the status is unchanged.
func ownConditions(old, desired []metav1.Condition, gen int64, now metav1.Time) []metav1.Condition {
	out := mergeConditions(nil, desired, gen, now)
	for i := range out {
		if prev := meta.FindStatusCondition(old, out[i].Type); prev != nil && prev.Status == out[i].Status {
			out[i].LastTransitionTime = prev.LastTransitionTime
		}
	}
	return out
}

// virtualDestinationStatus is the VirtualDestination status to write, given
// the live one.
func virtualDestinationStatus(st translator.VirtualDestinationStatus, live v1alpha1.VirtualDestinationStatus, gen int64, now metav1.Time) v1alpha1.VirtualDestinationStatus {
	return v1alpha1.VirtualDestinationStatus{
		State:              v1alpha1.State(st.State),
		Message:            truncate(st.Message),
		SelectedServices:   int32(st.SelectedServices),
		Clusters:           st.Clusters,
		ObservedGeneration: gen,
		Conditions:         ownConditions(live.Conditions, st.Conditions, gen, now),
	}
}

// objectStatus is the status to write of an ExternalService or Workspace.
func objectStatus(st translator.ObjectStatus, live v1alpha1.PolicyStatus, gen int64, now metav1.Time) v1alpha1.PolicyStatus {
	return v1alpha1.PolicyStatus{
		State:              v1alpha1.State(st.State),
		Message:            truncate(st.Message),
		ObservedGeneration: gen,
		Conditions:         ownConditions(live.Conditions, st.Conditions, gen, now),
	}
}

// policyStatus is the status to write of a FailoverPolicy or
// OutlierDetectionPolicy: attachedTo keeps the first v1alpha1.MaxAttachedTo
// destinations, attachedDestinations counts them all.
func policyStatus(st translator.PolicyStatus, live v1alpha1.DestinationPolicyStatus, gen int64, now metav1.Time) v1alpha1.DestinationPolicyStatus {
	attached := st.AttachedTo
	if len(attached) > v1alpha1.MaxAttachedTo {
		attached = attached[:v1alpha1.MaxAttachedTo]
	}
	return v1alpha1.DestinationPolicyStatus{
		PolicyStatus:         objectStatus(st.ObjectStatus, live.PolicyStatus, gen, now),
		AttachedDestinations: int32(len(st.AttachedTo)),
		AttachedTo:           append([]v1alpha1.DestinationReference(nil), attached...),
	}
}

// routeParents returns the HTTPRoute status.parents to write: other
// controllers' entries as they are, then Causeway's (controllerName
// controller), one per parentRef it reports on (entries for parentRefs no
// longer in the spec, or now naming another controller's Gateway, go). A
// route attached only to other controllers' Gateways (ours empty) keeps
// its live status exactly.
func routeParents(live []gwv1.RouteParentStatus, ours []gwv1.RouteParentStatus, controller gwv1.GatewayController, routeNS string, gen int64, now metav1.Time) []gwv1.RouteParentStatus {
	var out []gwv1.RouteParentStatus
	for _, p := range live {
		if p.ControllerName != controller {
			out = append(out, *p.DeepCopy())
		}
	}
	for _, p := range ours {
		p = *p.DeepCopy()
		p.ParentRef = defaultedParentRef(p.ParentRef)
		var old []metav1.Condition
		for _, lp := range live {
			if lp.ControllerName == controller && sameParent(lp.ParentRef, p.ParentRef, routeNS) {
				old = lp.Conditions
			}
		}
		p.Conditions = ownConditions(old, p.Conditions, gen, now)
		out = append(out, p)
	}
	return out
}

// defaultedParentRef fills group and kind as the API server's defaulting
// does, so that what is written compares equal to what is read back.
func defaultedParentRef(ref gwv1.ParentReference) gwv1.ParentReference {
	if ref.Group == nil {
		g := gwv1.Group(gwv1.GroupName)
		ref.Group = &g
	}
	if ref.Kind == nil {
		k := gwv1.Kind("Gateway")
		ref.Kind = &k
	}
	return ref
}

// sameParent compares parentRefs with defaults applied.
func sameParent(a, b gwv1.ParentReference, routeNS string) bool {
	a, b = defaultedParentRef(a), defaultedParentRef(b)
	ns := func(r gwv1.ParentReference) string {
		if r.Namespace == nil || *r.Namespace == "" {
			return routeNS
		}
		return string(*r.Namespace)
	}
	eq := func(x, y *gwv1.SectionName) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return *a.Group == *b.Group && *a.Kind == *b.Kind && ns(a) == ns(b) && a.Name == b.Name &&
		eq(a.SectionName, b.SectionName) &&
		(a.Port == nil) == (b.Port == nil) && (a.Port == nil || *a.Port == *b.Port)
}

// gatewayStatus returns the Gateway status to write: the live status with
// Causeway's conditions set and its listeners replaced (conditions merged
// by listener name). Addresses and other condition types stay.
func gatewayStatus(live gwv1.GatewayStatus, st translator.GatewayStatus, gen int64, now metav1.Time) gwv1.GatewayStatus {
	out := *live.DeepCopy()
	out.Conditions = mergeConditions(live.Conditions, st.Conditions, gen, now)
	out.Listeners = nil
	out.Addresses = st.Addresses
	for _, l := range st.Listeners {
		l = *l.DeepCopy()
		var old []metav1.Condition
		for _, ll := range live.Listeners {
			if ll.Name == l.Name {
				old = ll.Conditions
			}
		}
		l.Conditions = ownConditions(old, l.Conditions, gen, now)
		out.Listeners = append(out.Listeners, l)
	}
	return out
}

// gatewayClassStatus returns the GatewayClass status to write: the live
// status with Causeway's conditions set and supportedFeatures replaced.
func gatewayClassStatus(live gwv1.GatewayClassStatus, st translator.GatewayClassStatus, gen int64, now metav1.Time) gwv1.GatewayClassStatus {
	out := *live.DeepCopy()
	out.Conditions = mergeConditions(live.Conditions, st.Conditions, gen, now)
	out.SupportedFeatures = append([]gwv1.SupportedFeature(nil), st.SupportedFeatures...)
	return out
}
