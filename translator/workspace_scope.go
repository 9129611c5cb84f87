package translator

import (
	"github.com/causeway-dev/causeway/model"
)

// unscopedObject is a namespaced config object in no workspace.
type unscopedObject struct {
	kind, namespace, name string
}

func (o unscopedObject) String() string { return o.kind + " " + o.namespace + "/" + o.name }

// scopeToWorkspaces returns w without the namespaced config objects
// (VirtualDestinations, ExternalServices, Gateways, HTTPRoutes, policies)
// that belong to no workspace, and the objects it dropped, in kind then
// namespace/name order. Every later step then sees only objects it may
// use, so an object outside every workspace can neither serve, claim a
// host, nor attach. Services are kept: a Service outside every workspace is
// simply selected by nobody. Without workspaces, or when nothing is
// dropped, w itself is returned.
func scopeToWorkspaces(w *model.Snapshot, ws *workspaces) (*model.Snapshot, []unscopedObject) {
	if !ws.enabled() {
		return w, nil
	}
	var dropped []unscopedObject
	in := func(kind, ns, name string) bool {
		if _, ok := ws.ofObject(ns); ok {
			return true
		}
		dropped = append(dropped, unscopedObject{kind, ns, name})
		return false
	}
	world := model.World{
		Clusters:        w.Clusters(),
		Services:        w.Services(),
		ReferenceGrants: w.ReferenceGrants(),
		Workspaces:      w.Workspaces(),
		// Cluster-scoped or world-wide: never dropped.
		GatewayClasses: w.GatewayClasses(),
		Namespaces:     w.Namespaces(),
		Secrets:        w.Secrets(),
		ControllerName: w.ControllerName(),
	}
	for _, vd := range w.VirtualDestinations() {
		if in("VirtualDestination", vd.Namespace, vd.Name) {
			world.VirtualDestinations = append(world.VirtualDestinations, vd)
		}
	}
	world.ExternalServices = keepScoped(w.ExternalServices(), "ExternalService", in)
	// Another controller's Gateways are none of the workspaces' business:
	// kept, silently, so that routes naming them still find them foreign.
	for _, gw := range w.Gateways() {
		if !OwnsGateway(w, gw) || in("Gateway", gw.Namespace, gw.Name) {
			world.Gateways = append(world.Gateways, gw)
		}
	}
	// So are the routes attached only to them.
	for _, r := range w.HTTPRoutes() {
		if foreignRoute(w, r) || in("HTTPRoute", r.Namespace, r.Name) {
			world.HTTPRoutes = append(world.HTTPRoutes, r)
		}
	}
	world.FailoverPolicies = keepScoped(w.FailoverPolicies(), "FailoverPolicy", in)
	world.OutlierDetectionPolicies = keepScoped(w.OutlierDetectionPolicies(), "OutlierDetectionPolicy", in)
	if len(dropped) == 0 {
		return w, nil
	}
	return model.NewSnapshot(world), dropped
}

func keepScoped[T interface {
	GetNamespace() string
	GetName() string
}](objs []T, kind string, in func(kind, ns, name string) bool) []T {
	var out []T
	for _, o := range objs {
		if in(kind, o.GetNamespace(), o.GetName()) {
			out = append(out, o)
		}
	}
	return out
}

// reportUnscoped adds one diagnostic per object outside every workspace.
func reportUnscoped(ws *workspaces, dropped []unscopedObject, r *Resources) {
	for _, o := range dropped {
		r.report(o.String(), "metadata.namespace", "%s", ws.notInWorkspaceMessage(o.namespace))
	}
}

// scopeWorld is the first step of Translate and Statuses: it drops the
// objects outside every workspace and decides host:port ownership on what
// is left.
func scopeWorld(w *model.Snapshot) (*model.Snapshot, *hostPortClaims, []unscopedObject) {
	scoped, dropped := scopeToWorkspaces(w, newWorkspaces(w))
	return scoped, claimHostPorts(scoped), dropped
}
