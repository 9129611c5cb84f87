package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// PolicyStatus is what Causeway reports about an ExternalService, a
// Workspace, or (inside DestinationPolicyStatus) a policy. State and
// Message are derived from Conditions and kept for older clients.
type PolicyStatus struct {
	// State summarises Conditions: INVALID when Accepted is False, WARNING
	// when something is off (Accepted True with a reason other than
	// Accepted, Conflicted True, ResolvedRefs False), else ACCEPTED.
	// +optional
	State State `json:"state,omitempty"`
	// Message explains State, naming the offending field when INVALID.
	// +optional
	Message string `json:"message,omitempty"`
	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Accepted, Conflicted, and ResolvedRefs where the kind has
	// references (the README lists types and reasons per kind).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// MaxAttachedTo bounds DestinationPolicyStatus.AttachedTo; the count
// AttachedDestinations is never cut.
const MaxAttachedTo = 32

// DestinationPolicyStatus is what Causeway reports about a FailoverPolicy
// or an OutlierDetectionPolicy: PolicyStatus plus the VirtualDestinations
// the policy applies to (those it selects and did not lose to an older
// policy of its kind).
type DestinationPolicyStatus struct {
	PolicyStatus `json:",inline"`
	// AttachedDestinations counts the VirtualDestinations the policy
	// applies to.
	// +optional
	AttachedDestinations int32 `json:"attachedDestinations,omitempty"`
	// AttachedTo lists them (the first MaxAttachedTo, by namespace and
	// name).
	// +optional
	// +kubebuilder:validation:MaxItems=32
	AttachedTo []DestinationReference `json:"attachedTo,omitempty"`
}

// DestinationReference names a VirtualDestination.
type DestinationReference struct {
	// +required
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// Condition types Causeway sets on its own kinds.
const (
	// ConditionAccepted: the object is in use (True) or ignored (False).
	ConditionAccepted = "Accepted"
	// ConditionConflicted: the object lost some or all of a conflict to
	// another object (True; the message names the winner).
	ConditionConflicted = "Conflicted"
	// ConditionResolvedRefs: what the object refers to exists (True).
	ConditionResolvedRefs = "ResolvedRefs"
)

// Condition reasons Causeway sets on its own kinds.
const (
	ReasonAccepted         = "Accepted"         // Accepted True: fully in use
	ReasonPartiallyInvalid = "PartiallyInvalid" // Accepted True: in use, some fields ignored
	ReasonInvalid          = "Invalid"          // Accepted False: nothing usable
	ReasonConflicted       = "Conflicted"       // Accepted False / Conflicted True: lost to another object
	ReasonNotInWorkspace   = "NotInWorkspace"   // Accepted False: its namespace is in no Workspace
	ReasonTargetNotFound   = "TargetNotFound"   // Accepted False: a policy selects no VirtualDestination
	ReasonNoConflicts      = "NoConflicts"      // Conflicted False
	ReasonResolvedRefs     = "ResolvedRefs"     // ResolvedRefs True
	ReasonNoBackends       = "NoBackends"       // ResolvedRefs False: selects no Service or ExternalService
	ReasonNotFound         = "NotFound"         // ResolvedRefs False: a named object does not exist
)
