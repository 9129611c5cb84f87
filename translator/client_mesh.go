package translator

import (
	"fmt"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// Mesh routes: an HTTPRoute whose parentRef is a VirtualDestination
// (group networking.causeway.dev) or a Service (group "", as the Gateway
// API's mesh routing writes it) applies to client proxies: its rules
// replace the default route of the virtual hosts of that parent's
// host:ports (every port, or the parentRef's port). A Service parent means
// the Service's federated hostnames, in every cluster. The route's
// hostnames are not consulted (the parent names the hosts), and a parent
// must be one the route's workspace sees. Translate and Statuses both
// decide attachment here (meshParents.attach).

// reasonNotAllowedByWorkspace is the (implementation-specific) Accepted
// reason of a mesh parent the route's workspace does not see.
const reasonNotAllowedByWorkspace gwv1.RouteConditionReason = "NotAllowedByWorkspace"

// Mesh parent kinds.
const (
	meshParentNone = iota
	meshParentVirtualDestination
	meshParentService
)

// meshParentKind tells whether ref names a VirtualDestination or a
// Service. A Service parent needs group "" written out: an unset group
// means the Gateway API's, whose Service this is not.
func meshParentKind(ref gwv1.ParentReference) int {
	group, kind := refString(ref.Group), refString(ref.Kind)
	switch {
	case ref.Group != nil && group == model.APIGroup && kind == kindVirtualDestination:
		return meshParentVirtualDestination
	case ref.Group != nil && (group == "" || group == "core") && kind == kindService:
		return meshParentService
	}
	return meshParentNone
}

// meshAttachment is the outcome of one mesh parentRef of a route.
type meshAttachment struct {
	dests   []DestinationKey
	reason  gwv1.RouteConditionReason
	message string
}

func (m meshAttachment) accepted() bool { return m.reason == gwv1.RouteReasonAccepted }

// meshParents decides mesh attachments in one snapshot: its federated
// hostnames by Service namespace/name, indexed once.
type meshParents struct {
	w      *model.Snapshot
	claims *hostPortClaims
	fed    map[[2]string][]*federatedHost
}

func newMeshParents(w *model.Snapshot, claims *hostPortClaims) *meshParents {
	m := &meshParents{w: w, claims: claims, fed: map[[2]string][]*federatedHost{}}
	for _, fh := range claims.federated {
		k := [2]string{fh.svc.Namespace, fh.svc.Name}
		m.fed[k] = append(m.fed[k], fh)
	}
	return m
}

// attach decides what mesh parentRef ref of route attaches to.
func (mp *meshParents) attach(route *model.HTTPRoute, ref gwv1.ParentReference) meshAttachment {
	w, claims := mp.w, mp.claims
	ns, name := parentNamespace(route, ref), string(ref.Name)
	routeWS, _ := claims.ws.ofObject(route.Namespace)
	var port uint32
	if ref.Port != nil {
		port = uint32(*ref.Port)
	}
	if ref.SectionName != nil {
		return meshAttachment{reason: gwv1.RouteReasonNoMatchingParent,
			message: fmt.Sprintf("sectionName %q: a mesh parent is selected by port, not by section", *ref.SectionName)}
	}
	if meshParentKind(ref) == meshParentService {
		return attachMeshService(claims, mp.fed[[2]string{ns, name}], routeWS, ns, name, port)
	}
	vd := findVirtualDestination(w, ns, name)
	if vd == nil {
		return meshAttachment{reason: gwv1.RouteReasonNoMatchingParent, message: fmt.Sprintf("VirtualDestination %s/%s not found", ns, name)}
	}
	if owner, _ := claims.workspaceOf(vd); !claims.ws.sees(routeWS, owner) {
		return meshAttachment{reason: reasonNotAllowedByWorkspace, message: fmt.Sprintf("VirtualDestination %s/%s is in workspace %s, which workspace %s does not see (%s)",
			ns, name, owner, routeWS, claims.ws.missingLink(routeWS, owner))}
	}
	if port != 0 && !vdHasPort(vd, port) {
		return meshAttachment{reason: gwv1.RouteReasonNoMatchingParent, message: fmt.Sprintf("VirtualDestination %s/%s has no port %d", ns, name, port)}
	}
	var m meshAttachment
	for pi, vp := range vd.Ports {
		if port != 0 && vp.Number != port {
			continue
		}
		for hi := range vd.Hosts {
			if _, lost := claims.lost[claimKey{vd, pi, hi}]; !lost {
				m.dests = append(m.dests, claims.destination(vd, pi, hi))
			}
		}
	}
	if len(m.dests) == 0 {
		m.reason, m.message = gwv1.RouteReasonNoMatchingParent,
			fmt.Sprintf("VirtualDestination %s/%s serves none of its host:ports (another object defines them; see its status)", ns, name)
		return m
	}
	m.reason, m.message = gwv1.RouteReasonAccepted, "attached to VirtualDestination "+ns+"/"+name+" for client proxies: "+destList(m.dests)
	return m
}

// attachMeshService attaches to hosts, the federated hostnames of Service
// ns/name.
func attachMeshService(claims *hostPortClaims, hosts []*federatedHost, routeWS, ns, name string, port uint32) meshAttachment {
	var m meshAttachment
	found, hidden := len(hosts) > 0, ""
	for _, fh := range hosts {
		if port != 0 && fh.key.Port != port {
			continue
		}
		if !claims.ws.sees(routeWS, fh.key.Workspace) {
			hidden = fh.key.Workspace
			continue
		}
		m.dests = append(m.dests, fh.key)
	}
	switch {
	case len(m.dests) > 0:
		m.reason, m.message = gwv1.RouteReasonAccepted, "attached to the federated hostnames of Service "+ns+"/"+name+" for client proxies: "+destList(m.dests)
	case hidden != "":
		m.reason, m.message = reasonNotAllowedByWorkspace, fmt.Sprintf("the federated hostnames of Service %s/%s are in workspace %s, which workspace %s does not see (%s)",
			ns, name, hidden, routeWS, claims.ws.missingLink(routeWS, hidden))
	case found:
		m.reason, m.message = gwv1.RouteReasonNoMatchingParent, fmt.Sprintf("Service %s/%s has no federated hostname on port %d", ns, name, port)
	default:
		m.reason, m.message = gwv1.RouteReasonNoMatchingParent,
			fmt.Sprintf("Service %s/%s has no federated hostname (no Workspace federation selects it); a Service parent applies to federated hostnames", ns, name)
	}
	return m
}

// findVirtualDestination looks ns/name up in the snapshot's list, which
// is sorted by "namespace/name" (a binary search: mesh routes are many).
func findVirtualDestination(w *model.Snapshot, ns, name string) *model.VirtualDestination {
	vds := w.VirtualDestinations()
	key := ns + "/" + name
	i, found := slices.BinarySearchFunc(vds, key, func(vd model.VirtualDestination, k string) int {
		return strings.Compare(vd.Namespace+"/"+vd.Name, k)
	})
	if !found {
		return nil
	}
	return &vds[i]
}

func destList(dests []DestinationKey) string {
	parts := make([]string, len(dests))
	for i, d := range dests {
		parts[i] = fmt.Sprintf("%s:%d", d.Host, d.Port)
	}
	return strings.Join(parts, ", ")
}

// meshRoutes maps each destination to the HTTPRoutes attached to it as a
// mesh parent, in snapshot (namespace/name) order, reporting the mesh
// parentRefs that do not attach.
func meshRoutes(w *model.Snapshot, claims *hostPortClaims, r *Resources) map[DestinationKey][]*model.HTTPRoute {
	out := map[DestinationKey][]*model.HTTPRoute{}
	mp := newMeshParents(w, claims)
	for _, route := range w.HTTPRoutes() {
		added := map[DestinationKey]bool{}
		for j, ref := range route.Spec.ParentRefs {
			if meshParentKind(ref) == meshParentNone {
				continue
			}
			m := mp.attach(route, ref)
			if !m.accepted() {
				r.report("HTTPRoute "+route.Namespace+"/"+route.Name, fmt.Sprintf("spec.parentRefs[%d]", j), "%s; not attached", m.message)
				continue
			}
			for _, d := range m.dests {
				if !added[d] {
					added[d] = true
					out[d] = append(out[d], route)
				}
			}
		}
	}
	return out
}

// status is route's status for mesh parent ref: Accepted from
// attach (or False when every rule is invalid), ResolvedRefs from
// resolving its backendRefs as the client proxies of every cluster do.
func (mp *meshParents) status(route *model.HTTPRoute, ref gwv1.ParentReference, check routeCheck) gwv1.RouteParentStatus {
	w := mp.w
	m := mp.attach(route, ref)
	reason, message := resolvedRefs(w, mp.claims, route, check, servingClusters(w, nil))
	return gwv1.RouteParentStatus{
		ParentRef:      ref,
		ControllerName: controllerName(w),
		Conditions:     check.parentConditions(parentAttachment{reason: m.reason, message: m.message}, reason, message),
	}
}
