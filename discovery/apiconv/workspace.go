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

// Subsets checks a VirtualDestination's spec.subsets as its CRD does and
// converts them.
func Subsets(subsets []v1alpha1.Subset) ([]model.Subset, []FieldError) {
	var e errs
	var out []model.Subset
	names := map[string]bool{}
	for i, s := range subsets {
		field := fmt.Sprintf("spec.subsets[%d]", i)
		e.dnsLabel(field+".name", "subset name", s.Name)
		if names[s.Name] {
			e.add(field+".name", "duplicate subset %q", s.Name)
		}
		names[s.Name] = true
		if len(s.Labels) == 0 {
			e.add(field+".labels", "at least one label is required")
		}
		out = append(out, model.Subset{Name: s.Name, Labels: maps.Clone(s.Labels)})
	}
	return out, e
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
