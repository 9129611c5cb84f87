package translator

import (
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// Workspace visibility of backendRefs: a route reaches only Services,
// VirtualDestinations and hosts its workspace sees (br.workspace, set by
// resolve). Anything else is BackendNotFound, as if it did not exist for
// the route, with a message saying which workspace holds it so that the
// fix (an import/export pair) is obvious. Without workspaces everything is
// in "" and visible.

// serviceVisible checks a Service backendRef's target.
func (br backendResolver) serviceVisible(svc *model.Service) error {
	owner, ok := br.claims.ws.ofService(svc)
	switch {
	case !ok:
		return refErrorf(gwv1.RouteReasonBackendNotFound, "Service %s/%s in cluster %s is in no Workspace", svc.Namespace, svc.Name, svc.Cluster)
	case !br.claims.ws.sees(br.workspace, owner):
		return refErrorf(gwv1.RouteReasonBackendNotFound, "Service %s/%s in cluster %s is in workspace %s, which workspace %s does not see%s",
			svc.Namespace, svc.Name, svc.Cluster, owner, br.workspace, br.importExportHint(br.workspace, owner))
	}
	return nil
}

// virtualDestinationWorkspace returns vd's workspace, or an error when the
// route's workspace does not see it.
func (br backendResolver) virtualDestinationWorkspace(vd *model.VirtualDestination) (string, error) {
	owner, _ := br.claims.workspaceOf(vd) // vd is in the scoped snapshot: it has one
	if !br.claims.ws.sees(br.workspace, owner) {
		return "", refErrorf(gwv1.RouteReasonBackendNotFound, "VirtualDestination %s/%s is in workspace %s, which workspace %s does not see%s",
			vd.Namespace, vd.Name, owner, br.workspace, br.importExportHint(br.workspace, owner))
	}
	return owner, nil
}

// hostDestination finds the destination a Hostname backendRef names, as
// seen from the route's workspace, or says which workspaces serve it out of
// the route's sight.
func (br backendResolver) hostDestination(host string, port uint32) (DestinationKey, error) {
	dest, ok, hidden := br.claims.resolveHost(br.workspace, host, port)
	switch {
	case ok:
		return dest, nil
	case len(hidden) == 1:
		return DestinationKey{}, refErrorf(gwv1.RouteReasonBackendNotFound, "Hostname %q port %d is served in workspace %s, which workspace %s does not see%s",
			host, port, hidden[0], br.workspace, br.importExportHint(br.workspace, hidden[0]))
	case len(hidden) > 1:
		return DestinationKey{}, refErrorf(gwv1.RouteReasonBackendNotFound, "Hostname %q port %d is served only in workspaces %s, which workspace %s does not see",
			host, port, strings.Join(hidden, ", "), br.workspace)
	}
	return DestinationKey{}, refErrorf(gwv1.RouteReasonBackendNotFound, "Hostname %q port %d: no VirtualDestination serves this host and port", host, port)
}

// importExportHint says which half of the import/export pair is missing.
func (br backendResolver) importExportHint(viewer, owner string) string {
	return " (" + br.claims.ws.missingLink(viewer, owner) + ")"
}
