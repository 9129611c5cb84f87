package translator

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// reasonNotInWorkspace is the (implementation-specific) Accepted reason
// for a Gateway or HTTPRoute outside every workspace.
const reasonNotInWorkspace = "NotInWorkspace"

// addUnscopedStatuses reports the objects scopeWorld dropped, so a user
// sees why they do nothing instead of a stale status: Causeway's own kinds
// Accepted False (NotInWorkspace, state INVALID), Gateways and the Gateway
// parents of HTTPRoutes not Accepted.
// orig is the unscoped snapshot the objects come from.
func addUnscopedStatuses(rep *StatusReport, orig *model.Snapshot, ws *workspaces, dropped []unscopedObject) {
	isDropped := map[string]bool{}
	for _, o := range dropped {
		isDropped[o.String()] = true
	}
	for _, vd := range orig.VirtualDestinations() {
		if isDropped["VirtualDestination "+vd.Namespace+"/"+vd.Name] {
			st := VirtualDestinationStatus{Namespace: vd.Namespace, Name: vd.Name, Conditions: []metav1.Condition{
				notAccepted(v1alpha1.ReasonNotInWorkspace, "metadata.namespace: "+ws.notInWorkspaceMessage(vd.Namespace)),
			}}
			st.State, st.Message = summarize(st.Conditions, v1alpha1.ConditionResolvedRefs)
			rep.VirtualDestinations = append(rep.VirtualDestinations, st)
		}
	}
	slices.SortFunc(rep.VirtualDestinations, func(a, b VirtualDestinationStatus) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	notInWorkspace := func(kind, ns, name string) (ObjectStatus, bool) {
		if !isDropped[kind+" "+ns+"/"+name] {
			return ObjectStatus{}, false
		}
		return newObjectStatus(ns, name, notAccepted(v1alpha1.ReasonNotInWorkspace, "metadata.namespace: "+ws.notInWorkspaceMessage(ns))), true
	}
	for _, es := range orig.ExternalServices() {
		if st, ok := notInWorkspace("ExternalService", es.Namespace, es.Name); ok {
			rep.ExternalServices = append(rep.ExternalServices, st)
		}
	}
	for _, p := range orig.FailoverPolicies() {
		if st, ok := notInWorkspace("FailoverPolicy", p.Namespace, p.Name); ok {
			rep.FailoverPolicies = append(rep.FailoverPolicies, PolicyStatus{ObjectStatus: st})
		}
	}
	for _, p := range orig.OutlierDetectionPolicies() {
		if st, ok := notInWorkspace("OutlierDetectionPolicy", p.Namespace, p.Name); ok {
			rep.OutlierDetectionPolicies = append(rep.OutlierDetectionPolicies, PolicyStatus{ObjectStatus: st})
		}
	}
	sortObjectStatuses(rep.ExternalServices, func(s ObjectStatus) ObjectStatus { return s })
	sortObjectStatuses(rep.FailoverPolicies, func(s PolicyStatus) ObjectStatus { return s.ObjectStatus })
	sortObjectStatuses(rep.OutlierDetectionPolicies, func(s PolicyStatus) ObjectStatus { return s.ObjectStatus })
	for _, gw := range orig.Gateways() {
		if !isDropped["Gateway "+gw.Namespace+"/"+gw.Name] || !OwnsGateway(orig, gw) {
			continue
		}
		msg := ws.notInWorkspaceMessage(gw.Namespace)
		st := GatewayStatus{Namespace: gw.Namespace, Name: gw.Name, ObjectVersion: versionOf(gw), Conditions: []metav1.Condition{
			condition(string(gwv1.GatewayConditionAccepted), false, reasonNotInWorkspace, msg),
			condition(string(gwv1.GatewayConditionProgrammed), false, gwv1.GatewayReasonInvalid, msg),
		}}
		for _, l := range gw.Spec.Listeners {
			st.Listeners = append(st.Listeners, gwv1.ListenerStatus{Name: l.Name, SupportedKinds: supportedKinds(l), Conditions: []metav1.Condition{
				condition(string(gwv1.ListenerConditionAccepted), false, reasonNotInWorkspace, msg),
				condition(string(gwv1.ListenerConditionProgrammed), false, gwv1.ListenerReasonInvalid, msg),
			}})
		}
		rep.Gateways = append(rep.Gateways, st)
	}
	slices.SortFunc(rep.Gateways, func(a, b GatewayStatus) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	for _, route := range orig.HTTPRoutes() {
		if !isDropped["HTTPRoute "+route.Namespace+"/"+route.Name] {
			continue
		}
		msg := ws.notInWorkspaceMessage(route.Namespace)
		st := HTTPRouteStatus{Namespace: route.Namespace, Name: route.Name, ObjectVersion: versionOf(route)}
		seen := map[string]bool{}
		for _, ref := range route.Spec.ParentRefs {
			mesh := meshParentKind(ref) != meshParentNone
			if (!mesh && !namesGateway(ref)) || seen[parentRefKey(ref)] || (!mesh && foreignParent(orig, route, ref)) {
				continue
			}
			seen[parentRefKey(ref)] = true
			st.Parents = append(st.Parents, gwv1.RouteParentStatus{ParentRef: ref, ControllerName: controllerName(orig), Conditions: []metav1.Condition{
				condition(string(gwv1.RouteConditionAccepted), false, reasonNotInWorkspace, msg),
			}})
		}
		rep.HTTPRoutes = append(rep.HTTPRoutes, st)
	}
	slices.SortFunc(rep.HTTPRoutes, func(a, b HTTPRouteStatus) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
}
