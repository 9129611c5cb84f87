package translator

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// ObjectStatus is the status of an ExternalService or a Workspace
// (Namespace empty): its conditions and the legacy State and Message
// summarize derives from them.
type ObjectStatus struct {
	Namespace, Name string
	Conditions      []metav1.Condition
	State, Message  string
}

// PolicyStatus is the status of a FailoverPolicy or OutlierDetectionPolicy:
// ObjectStatus plus every VirtualDestination it applies to, by namespace
// and name (the status writer keeps the first v1alpha1.MaxAttachedTo).
type PolicyStatus struct {
	ObjectStatus
	AttachedTo []v1alpha1.DestinationReference
}

func newObjectStatus(ns, name string, conds ...metav1.Condition) ObjectStatus {
	st := ObjectStatus{Namespace: ns, Name: name, Conditions: conds}
	st.State, st.Message = summarize(conds, v1alpha1.ConditionAccepted)
	return st
}

// externalServiceStatuses reports every ExternalService of the scoped
// snapshot w: Accepted (Invalid when no host, usable port or usable
// endpoint is left; Conflicted when every host:port belongs to another
// object; PartiallyInvalid when fields are ignored) and Conflicted.
func externalServiceStatuses(w *model.Snapshot, claims *hostPortClaims) []ObjectStatus {
	var out []ObjectStatus
	for _, es := range w.ExternalServices() {
		scratch := &Resources{}
		checkExternalService(es, scratch)
		ignored := diagnosticMessages(scratch.Diagnostics)
		ports, endpoints := 0, 0
		for _, p := range es.Spec.Ports {
			if p.Number >= 1 && p.Number <= 65535 {
				ports++
			}
		}
		for _, ep := range es.Spec.Endpoints {
			if ip, dns := externalAddress(ep.Address); ip || dns {
				endpoints++
			}
		}
		var lost []string
		for pi, p := range es.Spec.Ports {
			if p.Number < 1 || p.Number > 65535 {
				continue
			}
			for hi, host := range es.Spec.Hosts {
				if winner, ok := claims.lost[claimKey{es, pi, hi}]; ok {
					lost = append(lost, fmt.Sprintf("spec.hosts[%d]: %s", hi, claims.lostMessage(host, winner)))
				}
			}
		}
		served := len(es.Spec.Hosts)*ports - len(lost)
		var accepted metav1.Condition
		switch {
		case len(es.Spec.Hosts) == 0 || ports == 0 || endpoints == 0:
			msg := "spec.hosts, spec.ports, spec.endpoints: at least one host, one usable port and one usable endpoint are required"
			if len(ignored) > 0 {
				msg = joinBounded(ignored) + "; " + msg
			}
			accepted = notAccepted(v1alpha1.ReasonInvalid, msg)
		case served == 0:
			accepted = notAccepted(v1alpha1.ReasonConflicted, joinBounded(lost))
		default:
			accepted = acceptedCondition(fmt.Sprintf("serves %d host:port(s) with %d endpoint(s)", served, endpoints), ignored)
		}
		out = append(out, newObjectStatus(es.Namespace, es.Name, accepted, lostClaimsCondition(lost, "owns every host:port it names")))
	}
	return out
}

// policyKind is what policyStatuses needs to know about one policy kind.
type policyKind[P interface {
	metav1.Object
	*model.FailoverPolicy | *model.OutlierDetectionPolicy
}] struct {
	kind      string
	selectors func(P) []v1alpha1.DestinationSelector
	// check reports the policy's ignored fields on r.
	check func(P, *Resources)
	// winner is the policy of this kind that applies to a VirtualDestination.
	winner func(vdPolicies) P
}

// policyStatuses reports every policy of one kind: the VirtualDestinations
// it applies to; Accepted (TargetNotFound when it selects none, Conflicted
// when an older policy of its kind applies to every one it selects,
// PartiallyInvalid when fields are ignored); Conflicted naming the
// winners. The attachment is indexPolicies', the translator's own.
func policyStatuses[P interface {
	metav1.Object
	*model.FailoverPolicy | *model.OutlierDetectionPolicy
}](w *model.Snapshot, idx policyIndex, policies []P, k policyKind[P]) []PolicyStatus {
	out := make([]PolicyStatus, 0, len(policies))
	for _, p := range policies {
		scratch := &Resources{}
		k.check(p, scratch)
		ignored := diagnosticMessages(scratch.Diagnostics)
		var st PolicyStatus
		var lost []string
		for _, vd := range selectedVDs(w, k.selectors(p), p.GetNamespace()) {
			winner := k.winner(idx[vd])
			if winner == p {
				st.AttachedTo = append(st.AttachedTo, v1alpha1.DestinationReference{Namespace: vd.Namespace, Name: vd.Name})
				continue
			}
			lost = append(lost, fmt.Sprintf("%s: the older %s %s/%s applies (one %s per VirtualDestination)",
				vdObject(vd), k.kind, winner.GetNamespace(), winner.GetName(), k.kind))
		}
		var accepted metav1.Condition
		switch {
		case len(st.AttachedTo) == 0 && len(lost) == 0:
			accepted = notAccepted(v1alpha1.ReasonTargetNotFound, "spec.applyToDestinations: selects no VirtualDestination")
		case len(st.AttachedTo) == 0:
			accepted = notAccepted(v1alpha1.ReasonConflicted, "applies to no VirtualDestination: "+joinBounded(lost))
		default:
			accepted = acceptedCondition(fmt.Sprintf("applies to %d VirtualDestination(s)", len(st.AttachedTo)), ignored)
		}
		st.ObjectStatus = newObjectStatus(p.GetNamespace(), p.GetName(), accepted,
			lostClaimsCondition(lost, "no other "+k.kind+" applies to the VirtualDestinations it selects"))
		out = append(out, st)
	}
	return out
}

var failoverPolicyKind = policyKind[*model.FailoverPolicy]{
	kind:      "FailoverPolicy",
	selectors: func(p *model.FailoverPolicy) []v1alpha1.DestinationSelector { return p.Spec.ApplyToDestinations },
	check:     func(p *model.FailoverPolicy, r *Resources) { validFailover(p, r) },
	winner:    func(vp vdPolicies) *model.FailoverPolicy { return vp.failover },
}

var outlierPolicyKind = policyKind[*model.OutlierDetectionPolicy]{
	kind: "OutlierDetectionPolicy",
	selectors: func(p *model.OutlierDetectionPolicy) []v1alpha1.DestinationSelector {
		return p.Spec.ApplyToDestinations
	},
	check:  func(p *model.OutlierDetectionPolicy, r *Resources) { validOutlier(p, r) },
	winner: func(vp vdPolicies) *model.OutlierDetectionPolicy { return vp.outlier },
}

// workspaceStatuses reports every Workspace: Accepted (Invalid without
// namespaces; Conflicted when an earlier workspace by name already holds
// every cluster/namespace it lists, since the first match wins),
// Conflicted naming those earlier workspaces, and ResolvedRefs (False,
// NotFound, when importFrom or exportTo names no Workspace).
func workspaceStatuses(w *model.Snapshot) []ObjectStatus {
	list := w.Workspaces()
	out := make([]ObjectStatus, 0, len(list))
	for i, ws := range list {
		var lost []string
		for _, n := range ws.Namespaces {
			for _, earlier := range list[:i] {
				if slices.ContainsFunc(earlier.Namespaces, func(e model.WorkspaceNamespace) bool {
					return matchesName(e.Cluster, n.Cluster) && matchesName(e.Namespace, n.Namespace)
				}) {
					lost = append(lost, fmt.Sprintf("cluster %s namespace %s is already in Workspace %s (the first by name wins); it adds nothing here",
						n.Cluster, n.Namespace, earlier.Name))
					break
				}
			}
		}
		var accepted metav1.Condition
		switch {
		case len(ws.Namespaces) == 0:
			accepted = notAccepted(v1alpha1.ReasonInvalid, "spec.workloadClusters: lists no namespace; the workspace holds nothing")
		case len(lost) == len(ws.Namespaces):
			accepted = notAccepted(v1alpha1.ReasonConflicted, joinBounded(lost))
		default:
			accepted = acceptedCondition(fmt.Sprintf("holds %d cluster/namespace pattern(s)", len(ws.Namespaces)-len(lost)), nil)
		}
		var missing []string
		for _, ref := range []struct {
			field string
			names []string
		}{{"spec.importFrom", ws.ImportFrom}, {"spec.exportTo", ws.ExportTo}} {
			for j, name := range ref.names {
				if name != "*" && !slices.ContainsFunc(list, func(o model.Workspace) bool { return o.Name == name }) {
					missing = append(missing, fmt.Sprintf("%s[%d]: no Workspace named %s", ref.field, j, name))
				}
			}
		}
		refs := condition(v1alpha1.ConditionResolvedRefs, true, v1alpha1.ReasonResolvedRefs, "every importFrom and exportTo entry names a Workspace")
		if len(missing) > 0 {
			refs = condition(v1alpha1.ConditionResolvedRefs, false, v1alpha1.ReasonNotFound, joinBounded(missing))
		}
		out = append(out, newObjectStatus("", ws.Name, accepted,
			lostClaimsCondition(lost, "no earlier Workspace holds its namespaces"), refs))
	}
	return out
}

// sortObjectStatuses orders statuses by namespace/name, as the snapshot
// orders objects.
func sortObjectStatuses[S any](list []S, key func(S) ObjectStatus) {
	slices.SortFunc(list, func(a, b S) int {
		ka, kb := key(a), key(b)
		return strings.Compare(ka.Namespace+"/"+ka.Name, kb.Namespace+"/"+kb.Name)
	})
}
