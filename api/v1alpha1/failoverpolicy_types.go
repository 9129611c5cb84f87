package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// FailoverPolicy changes the order in which a VirtualDestination's
// endpoints are tried when the closest ones fail: locality mappings put
// chosen regions/zones ahead of the others, priority labels rank endpoints
// by labels instead of locality.
//
// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=fp,categories=causeway
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].reason`
// +kubebuilder:printcolumn:name="Attached",type=integer,JSONPath=`.status.attachedDestinations`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FailoverPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec FailoverPolicySpec `json:"spec"`
	// +optional
	Status DestinationPolicyStatus `json:"status,omitempty"`
}

// FailoverPolicySpec is what users write.
type FailoverPolicySpec struct {
	// ApplyToDestinations selects the VirtualDestinations the policy
	// applies to.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	ApplyToDestinations []DestinationSelector `json:"applyToDestinations"`
	// +required
	Config FailoverConfig `json:"config"`
}

// FailoverConfig says how to fail over.
//
// +kubebuilder:validation:XValidation:rule="(has(self.localityMappings) && size(self.localityMappings) > 0) || has(self.priorityLabels)",message="set localityMappings or priorityLabels"
type FailoverConfig struct {
	// LocalityMappings: clients in From fail over to the To localities
	// before any other.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	LocalityMappings []LocalityMapping `json:"localityMappings,omitempty"`
	// PriorityLabels ranks endpoints by labels.
	// +optional
	PriorityLabels *PriorityLabels `json:"priorityLabels,omitempty"`
}

// LocalityMapping maps a client locality to its preferred failover
// localities.
type LocalityMapping struct {
	// +required
	// +kubebuilder:validation:XValidation:rule="has(self.region)",message="from.region is required"
	From Locality `json:"from"`
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	To []WeightedLocality `json:"to"`
}

// WeightedLocality is a failover target; Weight splits traffic between
// several targets of one mapping (unset = equal shares).
//
// +kubebuilder:validation:XValidation:rule="has(self.region)",message="region is required"
// +kubebuilder:validation:XValidation:rule="!has(self.subZone) || has(self.zone)",message="subZone requires zone"
type WeightedLocality struct {
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Region string `json:"region,omitempty"`
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Zone string `json:"zone,omitempty"`
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	SubZone string `json:"subZone,omitempty"`
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	Weight int32 `json:"weight,omitempty"`
}

// PriorityLabels ranks endpoints by the index of the first label key whose
// value differs from the client proxy's.
type PriorityLabels struct {
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=317
	Labels []string `json:"labels"`
}

// FailoverPolicyList is a list of FailoverPolicies.
//
// +kubebuilder:object:root=true
type FailoverPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FailoverPolicy `json:"items"`
}
