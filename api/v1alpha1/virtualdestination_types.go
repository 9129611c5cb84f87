package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// VirtualDestination gives an app spread over clusters one or more internal
// hostnames, selecting its backing Services (and ExternalServices) by
// labels, name, namespace and cluster.
//
// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vd,categories=causeway
// +kubebuilder:printcolumn:name="Hosts",type=string,JSONPath=`.spec.hosts`
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].reason`
// +kubebuilder:printcolumn:name="Backends",type=string,JSONPath=`.status.conditions[?(@.type=="ResolvedRefs")].reason`
// +kubebuilder:printcolumn:name="Services",type=integer,JSONPath=`.status.selectedServices`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type VirtualDestination struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec VirtualDestinationSpec `json:"spec"`
	// +optional
	Status VirtualDestinationStatus `json:"status,omitempty"`
}

// VirtualDestinationSpec is what users write.
//
// +kubebuilder:validation:XValidation:rule="(has(self.services) && size(self.services) > 0) || (has(self.externalServices) && size(self.externalServices) > 0)",message="at least one of spec.services or spec.externalServices must select a backend"
type VirtualDestinationSpec struct {
	// Hosts are the exact DNS names clients use (no wildcards).
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Hosts []string `json:"hosts"`

	// Ports the hosts serve. Port numbers are unique.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(p, self.exists_one(q, q.number == p.number))",message="port numbers must be unique"
	Ports []VirtualDestinationPort `json:"ports"`

	// Services selects backing Kubernetes Services in any cluster.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Services []ServiceSelector `json:"services,omitempty"`

	// ExternalServices selects backing ExternalServices.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	ExternalServices []ExternalServiceSelector `json:"externalServices,omitempty"`

	// Subsets name parts of the backends (for example one version) that an
	// HTTPRoute backendRef can target with an ExtensionRef filter of kind
	// Subset. Each gets its own Envoy cluster.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(s, self.exists_one(t, t.name == s.name))",message="subset names must be unique"
	Subsets []Subset `json:"subsets,omitempty"`

	// TrafficDistribution, as Service.spec.trafficDistribution: unset
	// balances over every ready backend in every cluster; PreferClose
	// prefers the client's locality and fails over to the next-closest.
	// +optional
	// +kubebuilder:validation:Enum=PreferClose
	TrafficDistribution string `json:"trafficDistribution,omitempty"`
}

// TrafficDistributionPreferClose prioritises endpoints by locality relative
// to the client proxy.
const TrafficDistributionPreferClose = "PreferClose"

// VirtualDestinationPort is one port the hosts serve.
type VirtualDestinationPort struct {
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Number int32 `json:"number"`
	// Protocol spoken on the port: HTTP (HTTP/1.1, the default), or HTTP2,
	// GRPC, H2C (HTTP/2 to the backends).
	// +optional
	// +kubebuilder:validation:Enum=HTTP;HTTP2;GRPC;H2C
	Protocol string `json:"protocol,omitempty"`
	// TargetPort is the backend port to forward to; unset means the backing
	// Service port with the same number.
	// +optional
	TargetPort *TargetPort `json:"targetPort,omitempty"`
}

// TargetPort names a backend port by number or by the name of the backing
// Service's port, exactly one of the two.
//
// +kubebuilder:validation:XValidation:rule="has(self.number) != has(self.name)",message="exactly one of number or name must be set"
type TargetPort struct {
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Number int32 `json:"number,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`
}

// Subset is a named part of a VirtualDestination's backends: the endpoints
// whose labels (endpoint labels first, then the Service's) match every
// label, where the key causeway.dev/cluster matches the endpoint's cluster.
type Subset struct {
	// Name is used in cluster and SNI names, so it is a DNS label.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// Labels the subset's endpoints carry; at least one, or the subset
	// would be the whole destination.
	// +required
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=32
	Labels map[string]string `json:"labels"`
}

// ServiceSelector selects Kubernetes Services. Empty fields match
// everything; every label must match the Service's labels. At least one
// field is required: an empty selector would select every Service in the
// mesh.
//
// +kubebuilder:validation:XValidation:rule="(has(self.labels) && size(self.labels) > 0) || (has(self.name) && size(self.name) > 0) || (has(self.namespace) && size(self.namespace) > 0) || (has(self.cluster) && size(self.cluster) > 0)",message="selects every Service in the mesh; give labels, name, namespace or cluster"
type ServiceSelector struct {
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// Cluster is a workload cluster's name as Causeway knows it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Cluster string `json:"cluster,omitempty"`
}

// ExternalServiceSelector selects ExternalServices. Empty fields match
// everything; every label must match.
type ExternalServiceSelector struct {
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// VirtualDestinationStatus is what Causeway reports.
type VirtualDestinationStatus struct {
	// +optional
	State State `json:"state,omitempty"`
	// Message explains State, naming the offending field when INVALID.
	// +optional
	Message string `json:"message,omitempty"`
	// SelectedServices counts the backing services selected, over every
	// cluster.
	// +optional
	SelectedServices int32 `json:"selectedServices,omitempty"`
	// Clusters holding selected services, sorted.
	// +optional
	Clusters []string `json:"clusters,omitempty"`
	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Accepted, Conflicted and ResolvedRefs; State and Message
	// are derived from them.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// VirtualDestinationList is a list of VirtualDestinations.
//
// +kubebuilder:object:root=true
type VirtualDestinationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualDestination `json:"items"`
}
