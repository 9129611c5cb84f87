package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ExternalService describes a service outside the workload clusters (a VM,
// a managed database, ...) by its hosts, ports and endpoints, so a
// VirtualDestination can select it like a Kubernetes Service.
//
// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=extsvc,categories=causeway
// +kubebuilder:printcolumn:name="Hosts",type=string,JSONPath=`.spec.hosts`
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].reason`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ExternalService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ExternalServiceSpec `json:"spec"`
	// +optional
	Status PolicyStatus `json:"status,omitempty"`
}

// ExternalServiceSpec is what users write.
//
// +kubebuilder:validation:XValidation:rule="self.endpoints.all(e, !has(e.ports) || e.ports.all(k, self.ports.exists(p, p.name == k)))",message="endpoint ports must name a port in spec.ports"
type ExternalServiceSpec struct {
	// Hosts are the exact DNS names of the service (no wildcards).
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Hosts []string `json:"hosts"`

	// Ports the service serves. Names and numbers are unique.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:XValidation:rule="self.all(p, self.exists_one(q, q.number == p.number))",message="port numbers must be unique"
	// +kubebuilder:validation:XValidation:rule="self.all(p, self.exists_one(q, q.name == p.name))",message="port names must be unique"
	Ports []ExternalServicePort `json:"ports"`

	// Endpoints serving the hosts.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	Endpoints []ExternalEndpoint `json:"endpoints"`
}

// ExternalServicePort is one port of an ExternalService.
type ExternalServicePort struct {
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Number int32 `json:"number"`
	// Name is how endpoints' ports maps refer to this port.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// Protocol, as VirtualDestinationPort.Protocol.
	// +optional
	// +kubebuilder:validation:Enum=HTTP;HTTP2;GRPC;H2C
	Protocol string `json:"protocol,omitempty"`
}

// ExternalEndpoint is one address serving an ExternalService.
type ExternalEndpoint struct {
	// Address is an IP address or a DNS name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="isIP(self) || self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="address must be an IP address or a DNS name"
	Address string `json:"address"`
	// Ports maps a port name of spec.ports to the number this endpoint
	// listens on; a port not listed uses its spec.ports number.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, self[k] >= 1 && self[k] <= 65535)",message="port numbers must be between 1 and 65535"
	Ports map[string]int32 `json:"ports,omitempty"`
	// Locality of the endpoint, for locality-aware failover.
	// +optional
	Locality *Locality `json:"locality,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Labels map[string]string `json:"labels,omitempty"`
}

// ExternalServiceList is a list of ExternalServices.
//
// +kubebuilder:object:root=true
type ExternalServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExternalService `json:"items"`
}
