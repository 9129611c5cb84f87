package apiconv

import (
	"fmt"
	"maps"
	"slices"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// Wildcard matches any cluster, namespace or workspace in a Workspace.
const Wildcard = "*"

// Workspace checks ws as its CRD does and converts it: every (cluster,
// namespace) pair of spec.workloadClusters becomes one model pattern, and
// federation is kept only when enabled, with the default host suffix
// applied. On error the model value is unusable.
func Workspace(ws *v1alpha1.Workspace) (model.Workspace, []FieldError) {
	var e errs
	out := model.Workspace{Name: ws.Name}
	spec := &ws.Spec
	if len(spec.WorkloadClusters) == 0 {
		e.add("spec.workloadClusters", "at least one cluster is required")
	}
	for i, wc := range spec.WorkloadClusters {
		field := fmt.Sprintf("spec.workloadClusters[%d]", i)
		if wc.Name == "" {
			e.add(field+".name", "is required (a cluster name or %q)", Wildcard)
		}
		if len(wc.Namespaces) == 0 {
			e.add(field+".namespaces", "at least one namespace is required")
		}
		for j, ns := range wc.Namespaces {
			if ns.Name != Wildcard {
				e.dnsLabel(fmt.Sprintf("%s.namespaces[%d].name", field, j), "namespace (or \"*\")", ns.Name)
			}
			out.Namespaces = append(out.Namespaces, model.WorkspaceNamespace{Cluster: wc.Name, Namespace: ns.Name})
		}
	}
	out.ImportFrom = e.refs("spec.importFrom", spec.ImportFrom)
	out.ExportTo = e.refs("spec.exportTo", spec.ExportTo)
	if f := spec.Federation; f != nil {
		if f.HostSuffix != "" {
			e.dnsSubdomain("spec.federation.hostSuffix", "host suffix", f.HostSuffix)
		}
		if f.Enabled {
			fed := &model.Federation{HostSuffix: f.HostSuffixOrDefault()}
			for _, sel := range f.ServiceSelector {
				fed.Selectors = append(fed.Selectors, model.ServiceSelector{Labels: maps.Clone(sel.Labels), Name: sel.Name, Namespace: sel.Namespace})
			}
			out.Federation = fed
		}
	}
	return out, e
}

func (e *errs) refs(field string, refs []v1alpha1.WorkspaceRef) []string {
	var out []string
	for i, r := range refs {
		if r.Name == "" {
			e.add(fmt.Sprintf("%s[%d].name", field, i), "is required (a workspace name or %q)", Wildcard)
		}
		out = append(out, r.Name)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
