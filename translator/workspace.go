package translator

import (
	"fmt"
	"slices"

	"github.com/causeway-dev/causeway/model"
)

// workspaces answers, for one snapshot, which workspace an object belongs
// to and which workspaces see each other. A world without workspaces has
// one implicit workspace "" holding everything, so every question has the
// answer today's behaviour needs: every object is in "", and "" sees "".
type workspaces struct {
	list   []model.Workspace // sorted by name, as the snapshot keeps them
	byName map[string]*model.Workspace
}

func newWorkspaces(w *model.Snapshot) *workspaces {
	ws := &workspaces{list: w.Workspaces(), byName: map[string]*model.Workspace{}}
	for i := range ws.list {
		ws.byName[ws.list[i].Name] = &ws.list[i]
	}
	return ws
}

// enabled reports whether the world declares any workspace.
func (ws *workspaces) enabled() bool { return len(ws.list) > 0 }

// matchesName reports whether a workspace pattern ("*" or a name) matches.
func matchesName(pattern, name string) bool { return pattern == "*" || pattern == name }

// ofObject is the workspace of a namespaced config object (VirtualDestination,
// ExternalService, HTTPRoute, Gateway, policy): the first workspace by name
// with a namespace pattern matching its namespace, in any cluster, because
// config objects are not bound to a cluster. false: in no workspace.
func (ws *workspaces) ofObject(namespace string) (string, bool) {
	if !ws.enabled() {
		return "", true
	}
	for _, wsp := range ws.list {
		if slices.ContainsFunc(wsp.Namespaces, func(n model.WorkspaceNamespace) bool { return matchesName(n.Namespace, namespace) }) {
			return wsp.Name, true
		}
	}
	return "", false
}

// ofService is the workspace of a Service: the first by name with a
// pattern matching both its cluster and its namespace. false: in none.
func (ws *workspaces) ofService(svc *model.Service) (string, bool) {
	if !ws.enabled() {
		return "", true
	}
	for _, wsp := range ws.list {
		if slices.ContainsFunc(wsp.Namespaces, func(n model.WorkspaceNamespace) bool {
			return matchesName(n.Cluster, svc.Cluster) && matchesName(n.Namespace, svc.Namespace)
		}) {
			return wsp.Name, true
		}
	}
	return "", false
}

// sees reports whether objects in workspace viewer may use objects of
// workspace owner: their own, or owner's when viewer imports from owner
// AND owner exports to viewer (both sides must agree, so no workspace can
// pull in another's hostnames, nor push its own onto another).
func (ws *workspaces) sees(viewer, owner string) bool {
	if viewer == owner {
		return true
	}
	v, o := ws.byName[viewer], ws.byName[owner]
	if v == nil || o == nil {
		return false
	}
	return slices.ContainsFunc(v.ImportFrom, func(p string) bool { return matchesName(p, owner) }) &&
		slices.ContainsFunc(o.ExportTo, func(p string) bool { return matchesName(p, viewer) })
}

// missingLink explains why viewer does not see owner: which of the import
// and the export is missing.
func (ws *workspaces) missingLink(viewer, owner string) string {
	v, o := ws.byName[viewer], ws.byName[owner]
	imports := v != nil && slices.ContainsFunc(v.ImportFrom, func(p string) bool { return matchesName(p, owner) })
	exports := o != nil && slices.ContainsFunc(o.ExportTo, func(p string) bool { return matchesName(p, viewer) })
	switch {
	case !imports && !exports:
		return fmt.Sprintf("%s does not import from %s and %s does not export to %s", viewer, owner, owner, viewer)
	case !imports:
		return fmt.Sprintf("%s does not import from %s", viewer, owner)
	default:
		return fmt.Sprintf("%s does not export to %s", owner, viewer)
	}
}

// connected reports whether either workspace sees the other: then a
// host:port claimed in both would be ambiguous for some route, so only one
// claim may stand.
func (ws *workspaces) connected(a, b string) bool { return ws.sees(a, b) || ws.sees(b, a) }

// selectedServices returns the Services vd (in workspace vdWS) selects and
// may use: those in a workspace vdWS sees. A selector never reaches into a
// workspace that does not share with vd's.
func (ws *workspaces) selectedServices(w *model.Snapshot, vd *model.VirtualDestination, vdWS string) []*model.Service {
	all := w.SelectedServices(vd)
	if !ws.enabled() {
		return all
	}
	out := make([]*model.Service, 0, len(all))
	for _, svc := range all {
		if owner, ok := ws.ofService(svc); ok && ws.sees(vdWS, owner) {
			out = append(out, svc)
		}
	}
	return out
}

// notInWorkspaceMessage explains why an object in no workspace is ignored.
func (ws *workspaces) notInWorkspaceMessage(namespace string) string {
	names := make([]string, 0, len(ws.list))
	for _, wsp := range ws.list {
		names = append(names, wsp.Name)
	}
	return fmt.Sprintf("namespace %s is in no Workspace (workspaces: %v); the object is ignored", namespace, names)
}
