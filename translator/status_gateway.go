package translator

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// attachedRoutes counts, per Gateway and listener index, the HTTPRoutes
// attached to that listener.
type attachedRoutes map[*model.Gateway]map[int]int32

func routeStatuses(w *model.Snapshot, idx *gatewayIndex, claims *hostPortClaims, scratch *Resources) ([]HTTPRouteStatus, attachedRoutes) {
	attached := attachedRoutes{}
	out := make([]HTTPRouteStatus, 0, len(w.HTTPRoutes()))
	var mesh *meshParents // built on the first mesh parentRef
	for _, route := range w.HTTPRoutes() {
		hosts, hostsSet := routeHostnames(route, scratch)
		check := checkRoute(route)
		st := HTTPRouteStatus{Namespace: route.Namespace, Name: route.Name, ObjectVersion: versionOf(route)}
		counted := map[*model.Gateway]map[int]bool{}
		seen := map[string]bool{}
		for _, ref := range route.Spec.ParentRefs {
			if meshParentKind(ref) != meshParentNone && !seen[parentRefKey(ref)] {
				seen[parentRefKey(ref)] = true
				if mesh == nil {
					mesh = newMeshParents(w, claims)
				}
				st.Parents = append(st.Parents, mesh.status(route, ref, check))
				continue
			}
			pa := idx.attachParent(route, ref, hosts, hostsSet)
			if pa.notGateway || pa.foreign || seen[parentRefKey(ref)] {
				continue // not ours to report on; or reported already
			}
			seen[parentRefKey(ref)] = true
			for _, lh := range pa.listeners {
				if counted[pa.gw] == nil {
					counted[pa.gw] = map[int]bool{}
				}
				if !counted[pa.gw][lh.l.index] {
					counted[pa.gw][lh.l.index] = true
					if attached[pa.gw] == nil {
						attached[pa.gw] = map[int]int32{}
					}
					attached[pa.gw][lh.l.index]++
				}
			}
			reason, message := resolvedRefs(w, claims, route, check, servingClusters(w, pa.gw))
			st.Parents = append(st.Parents, gwv1.RouteParentStatus{
				ParentRef:      ref,
				ControllerName: controllerName(w),
				Conditions:     check.parentConditions(pa, reason, message),
			})
		}
		out = append(out, st)
	}
	return out, attached
}

// parentRefKey identifies a parentRef as written, to report duplicates once.
func parentRefKey(ref gwv1.ParentReference) string {
	port := ""
	if ref.Port != nil {
		port = fmt.Sprint(*ref.Port)
	}
	return strings.Join([]string{refString(ref.Group), refString(ref.Kind), refString(ref.Namespace), string(ref.Name),
		refString(ref.SectionName), port}, "\x00")
}

// servingClusters are the clusters whose gateway proxies serve gw (all
// of them for a Gateway not found: wherever the route would attach, its
// rules would be resolved). Never empty, so that references are always
// checked: a Gateway pinned to an unknown cluster is resolved for that name.
func servingClusters(w *model.Snapshot, gw *model.Gateway) []string {
	var out []string
	for _, c := range w.Clusters() {
		if gw == nil || servedBy(gw, c.Name) {
			out = append(out, c.Name)
		}
	}
	if len(out) == 0 && gw != nil {
		out = append(out, gw.Annotations[model.ClusterAnnotation])
	}
	if len(out) == 0 {
		out = append(out, "")
	}
	return out
}

// resolvedRefs resolves every backendRef and RequestMirror backendRef of
// route for the gateway proxies of each cluster, as Translate does, and
// adds check's unresolvable ExtensionRef filters. The first failure gives
// the reason; the message lists every distinct failure.
func resolvedRefs(w *model.Snapshot, claims *hostPortClaims, route *model.HTTPRoute, check routeCheck, clusters []string) (gwv1.RouteConditionReason, string) {
	var reason gwv1.RouteConditionReason
	if len(check.refs) > 0 {
		reason = gwv1.RouteReasonInvalidKind
	}
	msgs := slices.Clone(check.refs)
	var mirrorMsgs []string
	for _, c := range clusters {
		br := backendResolver{w: w, cluster: c, claims: claims}
		for i, rule := range route.Spec.Rules {
			for j, ref := range rule.BackendRefs {
				_, err := br.resolveRef(route, ref)
				if err == nil {
					continue
				}
				if reason == "" {
					reason = reasonOf(err)
				}
				if msg := fmt.Sprintf("spec.rules[%d].backendRefs[%d]: %v", i, j, err); !slices.Contains(msgs, msg) {
					msgs = append(msgs, msg)
				}
			}
		}
		for _, m := range check.mirrors {
			if _, err := br.resolve(route, m.ref); err != nil {
				if reason == "" {
					reason = reasonOf(err)
				}
				if msg := fmt.Sprintf("%s: %v", m.field, err); !slices.Contains(mirrorMsgs, msg) {
					mirrorMsgs = append(mirrorMsgs, msg)
				}
			}
		}
	}
	if reason == "" {
		return gwv1.RouteReasonResolvedRefs, "every backendRef resolved"
	}
	var parts []string
	if len(msgs) > 0 {
		parts = append(parts, strings.Join(msgs, "; ")+"; requests matching those rules get 500")
	}
	if len(mirrorMsgs) > 0 {
		parts = append(parts, strings.Join(mirrorMsgs, "; ")+"; those mirrors are dropped")
	}
	return reason, strings.Join(parts, "; ")
}

func gatewayStatuses(w *model.Snapshot, idx *gatewayIndex, attached attachedRoutes) []GatewayStatus {
	out := make([]GatewayStatus, 0, len(w.Gateways()))
	for _, gw := range w.Gateways() {
		if !OwnsGateway(w, gw) {
			continue // another controller's, or nobody's
		}
		problems := idx.problems[gw]
		st := GatewayStatus{Namespace: gw.Namespace, Name: gw.Name, ObjectVersion: versionOf(gw)}
		var invalid []string
		unserved := 0
		for i, l := range gw.Spec.Listeners {
			ls := gwv1.ListenerStatus{Name: l.Name, SupportedKinds: supportedKinds(l), AttachedRoutes: attached[gw][i]}
			if p, bad := problems[i]; bad {
				invalid = append(invalid, fmt.Sprintf("listener %q: %s", l.Name, p.message))
				ls.Conditions = append(conflictedCondition(p),
					condition(string(gwv1.ListenerConditionAccepted), false, p.reason, p.message),
					condition(string(gwv1.ListenerConditionProgrammed), false, gwv1.ListenerReasonInvalid, p.message),
					condition(string(gwv1.ListenerConditionResolvedRefs), true, gwv1.ListenerReasonResolvedRefs, "no references to resolve"),
				)
			} else if gl, _ := idx.indexed(gw, i); gl.refs != nil {
				unserved++
				ls.Conditions = unresolvedListenerConditions(gl.refs)
			} else {
				resolved := "no references to resolve"
				if l.Protocol == gwv1.HTTPSProtocolType {
					resolved = "every tls.certificateRefs entry resolved"
				}
				refs := condition(string(gwv1.ListenerConditionResolvedRefs), true, gwv1.ListenerReasonResolvedRefs, resolved)
				if bad := unsupportedKinds(l); len(bad) > 0 {
					refs = condition(string(gwv1.ListenerConditionResolvedRefs), false, gwv1.ListenerReasonInvalidRouteKinds,
						fmt.Sprintf("allowedRoutes.kinds: %s not supported (only HTTPRoute of %s)", strings.Join(bad, ", "), gwv1.GroupName))
				}
				ls.Conditions = []metav1.Condition{
					condition(string(gwv1.ListenerConditionAccepted), true, gwv1.ListenerReasonAccepted, "listener accepted"),
					condition(string(gwv1.ListenerConditionProgrammed), true, gwv1.ListenerReasonProgrammed, "listener programmed"),
					refs,
				}
			}
			st.Listeners = append(st.Listeners, ls)
		}
		usable := len(gw.Spec.Listeners) - len(invalid)
		switch {
		case len(invalid) == 0:
			st.Conditions = append(st.Conditions, condition(string(gwv1.GatewayConditionAccepted), true, gwv1.GatewayReasonAccepted, "every listener is valid"))
		default:
			st.Conditions = append(st.Conditions, condition(string(gwv1.GatewayConditionAccepted), usable > 0, gwv1.GatewayReasonListenersNotValid, strings.Join(invalid, "; ")))
		}
		ok, msg := gatewayServed(w, gw, usable-unserved)
		reason := gwv1.GatewayReasonProgrammed
		if !ok {
			reason = gwv1.GatewayReasonInvalid
		}
		st.Addresses = gatewayAddresses(w, gw)
		if m := addressNotAssigned(w, st.Addresses); ok && m != "" {
			ok, reason, msg = false, gwv1.GatewayReasonAddressNotAssigned, m
		}
		st.Conditions = append(st.Conditions, condition(string(gwv1.GatewayConditionProgrammed), ok, reason, msg))
		out = append(out, st)
	}
	return out
}

// gatewayServed reports whether some gateway proxy gets gw's config: it
// needs a usable listener and a known cluster that serves it (servedBy).
func gatewayServed(w *model.Snapshot, gw *model.Gateway, usable int) (bool, string) {
	var clusters []string
	for _, c := range w.Clusters() {
		if servedBy(gw, c.Name) {
			clusters = append(clusters, c.Name)
		}
	}
	pinned := gw.Annotations[model.ClusterAnnotation]
	switch {
	case usable == 0:
		return false, "no listener is usable"
	case len(clusters) == 0 && pinned != "":
		return false, fmt.Sprintf("cluster %q named in annotation %s is not known", pinned, model.ClusterAnnotation)
	case len(clusters) == 0:
		return false, "no cluster is known, so no gateway proxy serves it"
	}
	return true, "served by the gateway proxies of " + strings.Join(clusters, ", ")
}

// supportedKinds lists the route kinds a listener takes: HTTPRoute for an
// HTTP or HTTPS listener that allows it, else none (an empty list, never null: the
// field is required).
func supportedKinds(l gwv1.Listener) []gwv1.RouteGroupKind {
	if (l.Protocol != gwv1.HTTPProtocolType && l.Protocol != gwv1.HTTPSProtocolType) || !allowsHTTPRoute(l) {
		return []gwv1.RouteGroupKind{}
	}
	group := gwv1.Group(gwv1.GroupName)
	return []gwv1.RouteGroupKind{{Group: &group, Kind: "HTTPRoute"}}
}

// unsupportedKinds lists the allowedRoutes.kinds other than HTTPRoute.
func unsupportedKinds(l gwv1.Listener) []string {
	var out []string
	if l.AllowedRoutes == nil {
		return nil
	}
	for _, k := range l.AllowedRoutes.Kinds {
		if k.Kind != "HTTPRoute" || (k.Group != nil && *k.Group != gwv1.GroupName) {
			out = append(out, refString(k.Group)+"/"+string(k.Kind))
		}
	}
	return out
}
