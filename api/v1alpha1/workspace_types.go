package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Workspace groups namespaces across workload clusters. Causeway objects
// and Services see only their own workspace and what other workspaces
// export to it and it imports, so teams sharing a mesh cannot claim each
// other's hostnames by accident. Without any Workspace everything shares
// one implicit workspace.
//
// Workspaces are cluster-scoped: they span namespaces (and clusters), so no
// namespace can own one.
//
// +genclient
// +genclient:nonNamespaced
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ws,categories=causeway
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].reason`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Workspace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec WorkspaceSpec `json:"spec"`
	// +optional
	Status PolicyStatus `json:"status,omitempty"`
}

// WorkspaceSpec is what users write.
type WorkspaceSpec struct {
	// WorkloadClusters lists the clusters and namespaces of the workspace.
	// A Service belongs to the first workspace (by name) matching its
	// cluster and namespace; a Causeway or Gateway API object, which is not
	// bound to a cluster, to the first matching its namespace in any cluster.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	WorkloadClusters []WorkspaceCluster `json:"workloadClusters"`
	// ImportFrom names the workspaces whose exported objects this one sees.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	ImportFrom []WorkspaceRef `json:"importFrom,omitempty"`
	// ExportTo names the workspaces that may import this one's objects.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	ExportTo []WorkspaceRef `json:"exportTo,omitempty"`
	// Federation gives the workspace's Services global hostnames.
	// +optional
	Federation *WorkspaceFederation `json:"federation,omitempty"`
}

// WorkspaceCluster is one cluster (or "*", every cluster) and the
// namespaces of it in the workspace.
type WorkspaceCluster struct {
	// Name of a workload cluster, or "*".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Namespaces []WorkspaceNamespace `json:"namespaces"`
}

// WorkspaceNamespace names a namespace, or "*" for every namespace.
type WorkspaceNamespace struct {
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$`
	Name string `json:"name"`
}

// WorkspaceRef names a Workspace, or "*" for every workspace.
type WorkspaceRef struct {
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// DefaultFederationHostSuffix ends federated hostnames when
// WorkspaceFederation.HostSuffix is unset.
const DefaultFederationHostSuffix = "global"

// WorkspaceFederation gives every selected Service of the workspace, in
// every cluster, the hostname <name>.<namespace>.svc.<cluster>.<hostSuffix>
// routing to that cluster's endpoints only.
type WorkspaceFederation struct {
	// Enabled turns federated hostnames on.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// HostSuffix ends every federated hostname.
	// +optional
	// +kubebuilder:default=global
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	HostSuffix string `json:"hostSuffix,omitempty"`
	// ServiceSelector picks the Services to federate; empty selects every
	// Service of the workspace.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	ServiceSelector []ExternalServiceSelector `json:"serviceSelector,omitempty"`
}

// HostSuffixOrDefault returns HostSuffix or its default, for offline
// readers that get no API server defaulting.
func (f *WorkspaceFederation) HostSuffixOrDefault() string {
	if f == nil || f.HostSuffix == "" {
		return DefaultFederationHostSuffix
	}
	return f.HostSuffix
}

// WorkspaceList is a list of Workspaces.
//
// +kubebuilder:object:root=true
type WorkspaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Workspace `json:"items"`
}
