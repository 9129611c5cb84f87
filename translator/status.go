package translator

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// VirtualDestination approval states, as users know them.
const (
	// StateAccepted: every host and port is served.
	StateAccepted = "ACCEPTED"
	// StateWarning: served, but something is off (it selects no Service,
	// or some of its host:ports belong to another VirtualDestination).
	StateWarning = "WARNING"
	// StateInvalid: nothing of it is served.
	StateInvalid = "INVALID"
)

// StatusReport is what Causeway has to say about each input object, computed
// from a snapshot by Statuses. Conditions carry neither ObservedGeneration nor
// LastTransitionTime: the status writer fills them from the live object. The
// Gateway API statuses name the version of the object they were computed
// from (ObjectVersion), so that the writer never labels what an older spec,
// or a deleted object of the same name, says with the live object's
// generation (the model and the writer's cache see changes at different
// moments).
type StatusReport struct {
	// ControllerName is the world's: the controllerName of Causeway's
	// HTTPRoute status.parents entries (also when it has none to write).
	ControllerName      gwv1.GatewayController
	GatewayClasses      []GatewayClassStatus
	VirtualDestinations []VirtualDestinationStatus
	Gateways            []GatewayStatus
	HTTPRoutes          []HTTPRouteStatus
	// Causeway's other kinds (status_objects.go), by namespace and name.
	ExternalServices         []ObjectStatus
	FailoverPolicies         []PolicyStatus
	OutlierDetectionPolicies []PolicyStatus
	Workspaces               []ObjectStatus
}

// VirtualDestinationStatus is one VirtualDestination's status: its
// conditions (Accepted, Conflicted, ResolvedRefs) and the legacy State and
// Message summarize derives from them. Message names the field at fault
// when the state is not ACCEPTED.
type VirtualDestinationStatus struct {
	Namespace, Name string
	State           string
	Message         string
	Conditions      []metav1.Condition
	// SelectedServices counts the backing Services selected, in all clusters.
	SelectedServices int
	// Clusters are the clusters those Services are in, sorted.
	Clusters []string
}

// GatewayStatus is one Gateway's conditions (Accepted, Programmed) and its
// listeners' statuses in spec order.
type GatewayStatus struct {
	Namespace, Name string
	ObjectVersion
	Conditions []metav1.Condition
	Listeners  []gwv1.ListenerStatus
	// Addresses are spec.addresses, else the provisioned Services'.
	Addresses []gwv1.GatewayStatusAddress
}

// HTTPRouteStatus is one HTTPRoute's status for each of its parentRefs that
// names one of Causeway's Gateways, a Gateway not found, or a mesh parent
// (a VirtualDestination or Service, client_mesh.go), in spec order, with
// the world's controllerName set. Parents is empty for a
// route attached only to other controllers' Gateways: the status writer
// then removes stale entries of Causeway's and writes nothing else.
type HTTPRouteStatus struct {
	Namespace, Name string
	ObjectVersion
	Parents []gwv1.RouteParentStatus
}

// ObjectVersion says which object, and which generation of its spec, a
// status describes: the snapshot's metadata.uid and metadata.generation.
// Both are empty where the world does not say (world files).
type ObjectVersion struct {
	UID        types.UID
	Generation int64
}

// versionOf is the ObjectVersion of a snapshot object.
func versionOf(o metav1.Object) ObjectVersion {
	return ObjectVersion{UID: o.GetUID(), Generation: o.GetGeneration()}
}

// Statuses computes the status of every VirtualDestination,
// ExternalService, FailoverPolicy, OutlierDetectionPolicy, Workspace,
// HTTPRoute, and GatewayClass and Gateway of Causeway's (ownership.go) in
// w. It is pure, and it applies the same rules as Translate (host:port
// claims, policy attachment, listener checks, route attachment, backendRef
// resolution and ReferenceGrants) by calling the same code.
//
// With workspaces, objects outside every workspace are reported as such
// (Accepted False with reason NotInWorkspace; Gateway and route parents
// not Accepted) and take part in nothing else; host conflicts and
// backendRef resolution follow workspace visibility (claims.go,
// workspace_backends.go).
//
// A Gateway's routes are resolved for every cluster whose gateway proxies
// serve it: a Service backendRef that resolves in one cluster but not in
// another makes ResolvedRefs False, since requests through the other
// cluster's gateways get 500.
func Statuses(w *model.Snapshot) *StatusReport {
	// Diagnostics are Translate's business; status carries its own messages.
	scratch := &Resources{}
	orig := w
	w, claims, unscoped := scopeWorld(w)
	idx := newGatewayIndex(w, scratch, func(*model.Gateway) bool { return true })
	rep := &StatusReport{
		ControllerName:      controllerName(orig),
		GatewayClasses:      gatewayClassStatuses(orig),
		VirtualDestinations: virtualDestinationStatuses(w, claims),
		ExternalServices:    externalServiceStatuses(w, claims),
		Workspaces:          workspaceStatuses(w),
	}
	// Which policy applies to a VirtualDestination does not depend on the
	// proxy: the locality only picks a mapping inside the policy.
	policies := indexPolicies(w, model.Locality{}, scratch)
	rep.FailoverPolicies = policyStatuses(w, policies, w.FailoverPolicies(), failoverPolicyKind)
	rep.OutlierDetectionPolicies = policyStatuses(w, policies, w.OutlierDetectionPolicies(), outlierPolicyKind)
	var attached attachedRoutes
	rep.HTTPRoutes, attached = routeStatuses(w, idx, claims, scratch)
	rep.Gateways = gatewayStatuses(w, idx, attached)
	if len(unscoped) > 0 {
		addUnscopedStatuses(rep, orig, claims.ws, unscoped)
	}
	return rep
}

func virtualDestinationStatuses(w *model.Snapshot, claims *hostPortClaims) []VirtualDestinationStatus {
	vds := w.VirtualDestinations()
	out := make([]VirtualDestinationStatus, 0, len(vds))
	for i := range vds {
		vd := &vds[i]
		services := claims.selectedServices(w, vd)
		var clusters []string
		for _, svc := range services {
			clusters = append(clusters, svc.Cluster)
		}
		st := VirtualDestinationStatus{
			Namespace: vd.Namespace, Name: vd.Name,
			SelectedServices: len(services),
			Clusters:         sortedUnique(clusters),
		}
		var lost []string
		for pi := range vd.Ports {
			for hi := range vd.Hosts {
				if winner, ok := claims.lost[claimKey{vd, pi, hi}]; ok {
					lost = append(lost, fmt.Sprintf("spec.hosts[%d]: %s", hi, claims.lostMessage(vd.Hosts[hi], winner)))
				}
			}
		}
		served := len(vd.Hosts)*len(vd.Ports) - len(lost)
		var accepted metav1.Condition
		switch {
		case len(vd.Hosts) == 0 || len(vd.Ports) == 0:
			accepted = notAccepted(v1alpha1.ReasonInvalid, "spec.hosts, spec.ports: at least one host and one port are required")
		case served == 0:
			accepted = notAccepted(v1alpha1.ReasonConflicted, joinBounded(lost))
		default:
			accepted = acceptedCondition(fmt.Sprintf("serves %d of %d host:port(s)", served, len(vd.Hosts)*len(vd.Ports)), nil)
		}
		st.Conditions = []metav1.Condition{
			accepted,
			lostClaimsCondition(lost, "owns every host:port it names"),
			backendsCondition(len(services), st.Clusters, len(selectedExternalServices(w, claims, vd))),
		}
		st.State, st.Message = summarize(st.Conditions, v1alpha1.ConditionResolvedRefs)
		out = append(out, st)
	}
	return out
}

// backendsCondition is a VirtualDestination's ResolvedRefs: True when it
// selects any Service or ExternalService (as the translator has backends to
// send), else False with reason NoBackends.
func backendsCondition(services int, clusters []string, externals int) metav1.Condition {
	var parts []string
	if services > 0 {
		parts = append(parts, fmt.Sprintf("selects %d Service(s) in %s", services, strings.Join(clusters, ", ")))
	}
	if externals > 0 {
		verb := "selects "
		if services > 0 {
			verb = "and "
		}
		parts = append(parts, fmt.Sprintf("%s%d ExternalService(s)", verb, externals))
	}
	if len(parts) == 0 {
		return condition(v1alpha1.ConditionResolvedRefs, false, v1alpha1.ReasonNoBackends, "spec.services: selects no Service; its clusters have no endpoints")
	}
	return condition(v1alpha1.ConditionResolvedRefs, true, v1alpha1.ReasonResolvedRefs, strings.Join(parts, " "))
}

// condition builds a condition that is True when ok.
func condition[R ~string](typ string, ok bool, reason R, message string) metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: status, Reason: string(reason), Message: message}
}
