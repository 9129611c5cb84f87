package model

import (
	"time"

	"github.com/causeway-dev/causeway/api/v1alpha1"
)

// ExternalService is a Causeway ExternalService: hosts and addresses outside
// the clusters, selectable by VirtualDestinations and routable directly.
type ExternalService = v1alpha1.ExternalService

// FailoverPolicy changes the priority order of the destinations it applies to.
type FailoverPolicy = v1alpha1.FailoverPolicy

// OutlierDetectionPolicy ejects unhealthy hosts of the destinations it applies to.
type OutlierDetectionPolicy = v1alpha1.OutlierDetectionPolicy

// Subset is a named part of a VirtualDestination's backends, selected by
// labels (endpoint labels, then Service labels, plus SubsetClusterLabel for
// the endpoint's cluster).
type Subset struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// SubsetClusterLabel is matched against an endpoint's cluster name by subset
// selectors, so a subset can pick a cluster.
const SubsetClusterLabel = "causeway.dev/cluster"

// Workspace groups namespaces across clusters. VirtualDestinations, routes
// and federated hostnames are visible inside their workspace and in the
// workspaces that import what it exports. When a world has no workspaces,
// everything lives in one implicit workspace named "".
type Workspace struct {
	Name string
	// Namespaces lists (cluster, namespace) patterns; "*" matches any.
	Namespaces []WorkspaceNamespace
	// ImportFrom and ExportTo name other workspaces ("*" matches any).
	ImportFrom []string
	ExportTo   []string
	// Federation, when set, gives every selected Service of the workspace
	// the hostname <svc>.<ns>.svc.<cluster>.<HostSuffix>.
	Federation *Federation
}

// WorkspaceNamespace is one cluster/namespace pattern of a workspace.
type WorkspaceNamespace struct {
	Cluster   string
	Namespace string
}

// Federation configures federated hostnames for a workspace.
type Federation struct {
	HostSuffix string
	// Selectors pick the Services to federate (namespace, name, labels);
	// empty selects every Service of the workspace.
	Selectors []ServiceSelector
}

// Age orders objects for conflict resolution: the older one wins. Objects
// without a timestamp (world files) keep document order through Seq.
type Age struct {
	CreationTimestamp time.Time
	Seq               int
}

// OlderThan reports whether a was created before b.
func (a Age) OlderThan(b Age) bool {
	if !a.CreationTimestamp.Equal(b.CreationTimestamp) {
		if a.CreationTimestamp.IsZero() || b.CreationTimestamp.IsZero() {
			return !a.CreationTimestamp.IsZero() // a timestamp beats none
		}
		return a.CreationTimestamp.Before(b.CreationTimestamp)
	}
	return a.Seq < b.Seq
}
