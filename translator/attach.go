package translator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// The Gateway API rules that do not depend on which proxy asks: which
// listeners are usable and which HTTPRoutes attach to them with which
// hostnames. Translate (per proxy) and Statuses (per object) both read
// them from here, so the config a proxy gets and the status a user reads
// cannot disagree.

// gwListener is one usable HTTP listener of a Gateway.
type gwListener struct {
	gw       *model.Gateway
	index    int // in spec.listeners
	listener gwv1.Listener
	hostname string // lower case; "" matches any host
	// certs are an HTTPS listener's certificates; refs, when set, says why
	// they do not resolve (the listener takes routes but is not served).
	certs []*model.Secret
	refs  *refProblem
	// nsSelector is allowedRoutes.namespaces.selector, parsed, for a
	// from: Selector listener (see allowsNamespace).
	nsSelector labels.Selector
}

// listenerProblem says why a listener cannot be used.
type listenerProblem struct {
	reason  gwv1.ListenerConditionReason
	message string
	// conflict is the Conflicted reason, if that is the problem.
	conflict gwv1.ListenerConditionReason
}

// listenerReasonUnsupportedValue is what Causeway reports for a listener
// value it cannot use; the Gateway API has no constant for it.
const listenerReasonUnsupportedValue gwv1.ListenerConditionReason = "UnsupportedValue"

// checkListeners sorts gw's listeners into usable ones (ordered by port,
// then spec order) and problems (by listener index), reporting each
// problem on r.
func checkListeners(w *model.Snapshot, gw *model.Gateway, r *Resources) ([]gwListener, map[int]listenerProblem) {
	obj := "Gateway " + gw.Namespace + "/" + gw.Name
	var usable []gwListener
	problems := map[int]listenerProblem{}
	bad := func(i int, field string, reason gwv1.ListenerConditionReason, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		r.report(obj, fmt.Sprintf("spec.listeners[%d]%s", i, field), "%s; listener ignored", msg)
		problems[i] = listenerProblem{reason: reason, message: msg}
	}
	conflicts := listenerConflicts(gw)
	for i, l := range gw.Spec.Listeners {
		if l.Protocol != gwv1.HTTPProtocolType && l.Protocol != gwv1.HTTPSProtocolType {
			bad(i, ".protocol", gwv1.ListenerReasonUnsupportedProtocol, "protocol %q is not supported (only HTTP and HTTPS)", l.Protocol)
			continue
		}
		if l.Port < 1 || l.Port > 65535 {
			bad(i, ".port", gwv1.ListenerReasonPortUnavailable, "port %d is out of range", l.Port)
			continue
		}
		var host string
		if l.Hostname != nil && *l.Hostname != anyHost {
			host = strings.ToLower(string(*l.Hostname))
			if !validHostname(host) {
				bad(i, ".hostname", listenerReasonUnsupportedValue, "hostname %q is not a valid hostname", *l.Hostname)
				continue
			}
		}
		sel, err := namespaceSelector(l)
		if err != nil {
			bad(i, ".allowedRoutes.namespaces.selector", listenerReasonUnsupportedValue, "%v", err)
			continue
		}
		if c, ok := conflicts[i]; ok {
			bad(i, "", gwv1.ListenerReasonPortUnavailable, "%s", conflictMessage(gw, i, c))
			problems[i] = listenerProblem{reason: gwv1.ListenerReasonPortUnavailable, message: conflictMessage(gw, i, c), conflict: c}
			continue
		}
		gl := gwListener{gw: gw, index: i, listener: l, hostname: host, nsSelector: sel}
		if l.Protocol == gwv1.HTTPSProtocolType {
			if field, reason, msg, ok := checkListenerTLS(l); !ok {
				bad(i, field, reason, "%s", msg)
				continue
			}
			reportTLSOptions(r, obj, i, l)
			if gl.certs, gl.refs = listenerCertificates(w, gw, l); gl.refs != nil {
				r.report(obj, fmt.Sprintf("spec.listeners[%d].tls.certificateRefs", i), "%s; listener not served", gl.refs.message)
			}
		}
		usable = append(usable, gl)
	}
	slices.SortStableFunc(usable, func(a, b gwListener) int { return cmp.Compare(a.listener.Port, b.listener.Port) })
	return usable, problems
}

// allowsHTTPRoute reports whether the listener's allowedRoutes.kinds admit
// HTTPRoutes (no kinds: the protocol's default, HTTPRoute for HTTP).
func allowsHTTPRoute(l gwv1.Listener) bool {
	ar := l.AllowedRoutes
	return ar == nil || len(ar.Kinds) == 0 || slices.ContainsFunc(ar.Kinds, func(k gwv1.RouteGroupKind) bool {
		return k.Kind == "HTTPRoute" && (k.Group == nil || *k.Group == gwv1.GroupName)
	})
}

// allows reports whether l accepts HTTPRoutes from namespace ns. Without
// allowedRoutes only the Gateway's own namespace may attach.
func (l gwListener) allows(w *model.Snapshot, ns string) bool {
	return allowsHTTPRoute(l.listener) && l.allowsNamespace(w, ns)
}

// gatewayIndex holds the checked listeners of the Gateways one computation
// looks at (a proxy: the Gateways it serves; status: all of them).
type gatewayIndex struct {
	w         *model.Snapshot
	listeners map[*model.Gateway][]gwListener
	problems  map[*model.Gateway]map[int]listenerProblem
}

// newGatewayIndex checks the listeners of every Gateway of Causeway's
// (ownership.go) that include accepts, reporting their problems on r.
func newGatewayIndex(w *model.Snapshot, r *Resources, include func(*model.Gateway) bool) *gatewayIndex {
	idx := &gatewayIndex{w: w, listeners: map[*model.Gateway][]gwListener{}, problems: map[*model.Gateway]map[int]listenerProblem{}}
	for _, gw := range w.Gateways() {
		if !include(gw) {
			continue
		}
		if !OwnsGateway(w, gw) {
			reportClassNotFound(w, gw, r)
			continue
		}
		idx.listeners[gw], idx.problems[gw] = checkListeners(w, gw, r)
	}
	return idx
}

// namesGateway reports whether ref names a Gateway (of the Gateway API
// group); other parents are not Causeway's to attach to or report on.
func namesGateway(ref gwv1.ParentReference) bool {
	return (ref.Group == nil || *ref.Group == gwv1.GroupName) && (ref.Kind == nil || *ref.Kind == "Gateway")
}

// listenerHosts is a listener a route attached to, with the hostnames the
// route serves there.
type listenerHosts struct {
	l         gwListener
	hostnames []string
}

// parentAttachment is the outcome of one parentRef of a route.
type parentAttachment struct {
	// notGateway: the parentRef names something other than a Gateway;
	// Causeway leaves it (and its status) alone.
	notGateway bool
	// foreign: the parentRef names another controller's Gateway
	// (ownership.go); Causeway leaves it alone too.
	foreign bool
	gw      *model.Gateway // nil: not found
	// indexed: gw's listeners were checked (false for a Gateway the proxy
	// does not serve); only then do listeners and reason mean anything.
	indexed   bool
	listeners []listenerHosts
	// reason is the Accepted reason; message explains a refusal (see
	// conditionMessage).
	reason  gwv1.RouteConditionReason
	message string
}

// conditionMessage is the Accepted condition's message: message, or for an
// attached route the listeners it attached to (built only here: the
// translation of every route does not need it).
func (pa parentAttachment) conditionMessage() string {
	if pa.reason != gwv1.RouteReasonAccepted || len(pa.listeners) == 0 {
		return pa.message
	}
	var names []string
	for _, lh := range pa.listeners {
		names = append(names, fmt.Sprintf("%q", lh.l.listener.Name))
	}
	return fmt.Sprintf("attached to Gateway %s/%s listener %s", pa.gw.Namespace, pa.gw.Name, strings.Join(names, ", "))
}

// attachParent finds the listeners parentRef ref of route attaches to.
// hosts and hostsSet are the route's hostnames (routeHostnames).
func (idx *gatewayIndex) attachParent(route *model.HTTPRoute, ref gwv1.ParentReference, hosts []string, hostsSet bool) parentAttachment {
	if !namesGateway(ref) {
		return parentAttachment{notGateway: true}
	}
	ns := parentNamespace(route, ref)
	gw := idx.w.Gateway(ns, string(ref.Name))
	if gw == nil {
		return parentAttachment{reason: gwv1.RouteReasonNoMatchingParent, message: fmt.Sprintf("Gateway %s/%s not found", ns, ref.Name)}
	}
	if !OwnsGateway(idx.w, gw) {
		return parentAttachment{foreign: true}
	}
	listeners, indexed := idx.listeners[gw]
	pa := parentAttachment{gw: gw, indexed: indexed}
	if !indexed {
		return pa
	}
	var reasons []string
	notAllowed, hostMismatch := false, false
	for _, l := range listeners {
		switch {
		case ref.SectionName != nil && *ref.SectionName != l.listener.Name:
		case ref.Port != nil && *ref.Port != l.listener.Port:
		case !l.allows(idx.w, route.Namespace):
			notAllowed = true
			reasons = append(reasons, fmt.Sprintf("listener %q does not allow routes from namespace %s", l.listener.Name, route.Namespace))
		default:
			hs := intersectHostnames(l.hostname, hosts, hostsSet)
			if len(hs) == 0 {
				hostMismatch = true
				reasons = append(reasons, fmt.Sprintf("no hostname intersects listener %q hostname %q", l.listener.Name, l.hostname))
				continue
			}
			pa.listeners = append(pa.listeners, listenerHosts{l: l, hostnames: hs})
		}
	}
	switch {
	case len(pa.listeners) > 0:
		pa.reason = gwv1.RouteReasonAccepted // attachedMessage is the message
	case hostMismatch:
		pa.reason = gwv1.RouteReasonNoMatchingListenerHostname
	case notAllowed:
		pa.reason = gwv1.RouteReasonNotAllowedByListeners
	default:
		pa.reason = gwv1.RouteReasonNoMatchingParent
		reasons = append(reasons, "no HTTP listener matches sectionName/port")
	}
	if len(pa.listeners) == 0 {
		pa.message = fmt.Sprintf("not attached to Gateway %s/%s: %s", ns, gw.Name, strings.Join(reasons, "; "))
	}
	return pa
}

func parentNamespace(route *model.HTTPRoute, ref gwv1.ParentReference) string {
	if ref.Namespace != nil && *ref.Namespace != "" {
		return string(*ref.Namespace)
	}
	return route.Namespace
}

// routeHostnames returns the route's valid hostnames, lower case, and
// whether it named any, reporting invalid ones on r. A route whose
// hostnames are all invalid still counts as naming some, so it attaches
// nowhere instead of everywhere.
func routeHostnames(route *model.HTTPRoute, r *Resources) ([]string, bool) {
	var hosts []string
	for k, h := range route.Spec.Hostnames {
		lh := strings.ToLower(string(h))
		if !validHostname(lh) {
			r.report("HTTPRoute "+route.Namespace+"/"+route.Name, fmt.Sprintf("spec.hostnames[%d]", k), "hostname %q is not a valid hostname; ignored", h)
			continue
		}
		hosts = append(hosts, lh)
	}
	return hosts, len(route.Spec.Hostnames) > 0
}

func refString[T ~string](s *T) string {
	if s == nil {
		return ""
	}
	return string(*s)
}
