package translator

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// GatewayClass ownership. Causeway owns the GatewayClasses whose
// spec.controllerName is the world's ControllerName, and the Gateways of
// those classes. Every other Gateway belongs to another controller (or to
// nobody yet): it gets no listeners and no status, and a route's
// parentRef naming it is left alone, as a parentRef to something that is
// not a Gateway is. Translate and Statuses both decide through here.

// ownsClass reports whether gc is one of Causeway's GatewayClasses.
func ownsClass(w *model.Snapshot, gc *model.GatewayClass) bool {
	return gc != nil && string(gc.Spec.ControllerName) == w.ControllerName()
}

// OwnsGateway reports whether gw's spec.gatewayClassName names one of
// Causeway's GatewayClasses: the one rule every part that picks Gateways
// (translation, status, the demo, provisioning) follows.
func OwnsGateway(w *model.Snapshot, gw *model.Gateway) bool {
	return ownsClass(w, w.GatewayClass(string(gw.Spec.GatewayClassName)))
}

// reportClassNotFound reports a Gateway whose class is not in the world:
// it may be meant for Causeway, whose class was forgotten, or for another
// controller whose class is not installed yet; either way nobody serves it.
func reportClassNotFound(w *model.Snapshot, gw *model.Gateway, r *Resources) {
	if w.GatewayClass(string(gw.Spec.GatewayClassName)) != nil {
		return
	}
	r.report("Gateway "+gw.Namespace+"/"+gw.Name, "spec.gatewayClassName",
		"GatewayClass %q not found; the Gateway is ignored (Causeway owns the classes whose controllerName is %s)",
		gw.Spec.GatewayClassName, w.ControllerName())
}

// foreignParent reports whether ref names an existing Gateway that is not
// Causeway's (a parentRef that is none of Causeway's business).
func foreignParent(w *model.Snapshot, route *model.HTTPRoute, ref gwv1.ParentReference) bool {
	if !namesGateway(ref) {
		return false
	}
	gw := w.Gateway(parentNamespace(route, ref), string(ref.Name))
	return gw != nil && !OwnsGateway(w, gw)
}

// controllerName is the world's controllerName as the Gateway API types it.
func controllerName(w *model.Snapshot) gwv1.GatewayController {
	return gwv1.GatewayController(w.ControllerName())
}

// foreignRoute reports whether route is attached to other controllers'
// Gateways only: some parentRef names one, and every parentRef that names a
// Gateway names one.
func foreignRoute(w *model.Snapshot, route *model.HTTPRoute) bool {
	foreign := false
	for _, ref := range route.Spec.ParentRefs {
		if meshParentKind(ref) != meshParentNone {
			return false // client proxies' (client_mesh.go)
		}
		if !namesGateway(ref) {
			continue
		}
		if !foreignParent(w, route, ref) {
			return false
		}
		foreign = true
	}
	return foreign
}
