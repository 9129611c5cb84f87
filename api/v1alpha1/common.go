package v1alpha1

// State is the approval state Causeway reports in an object's status.
// +kubebuilder:validation:Enum=ACCEPTED;INVALID;WARNING
type State string

const (
	// StateAccepted: the object is valid and in use.
	StateAccepted State = "ACCEPTED"
	// StateInvalid: the object cannot be used; Message says which field is
	// wrong. Other, valid objects are unaffected.
	StateInvalid State = "INVALID"
	// StateWarning: the object is in use but something is off (for example
	// it selects no backing service yet); Message says what.
	StateWarning State = "WARNING"
)

// Locality is a Kubernetes-style failure domain, from the Node labels
// topology.kubernetes.io/region, topology.kubernetes.io/zone and
// topology.istio.io/subzone. A zone only means something within its region
// and a subZone within its zone.
// +kubebuilder:validation:XValidation:rule="!has(self.zone) || has(self.region)",message="zone requires region"
// +kubebuilder:validation:XValidation:rule="!has(self.subZone) || has(self.zone)",message="subZone requires zone"
type Locality struct {
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
}

// ObjectSelector selects Causeway objects by labels, name and namespace.
// Empty fields match everything; every label must match.
type ObjectSelector struct {
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`
	// Namespace of the selected objects; empty means the policy's own
	// namespace.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// DestinationSelector names the VirtualDestinations a policy applies to.
type DestinationSelector struct {
	// +required
	Selector ObjectSelector `json:"selector"`
}

// PolicyStatus is what Causeway reports about a policy.
type PolicyStatus struct {
	// +optional
	State State `json:"state,omitempty"`
	// Message explains State, naming the offending field when INVALID.
	// +optional
	Message string `json:"message,omitempty"`
	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}
