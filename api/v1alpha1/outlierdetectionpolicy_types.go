package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OutlierDetectionPolicy ejects endpoints of a VirtualDestination that keep
// failing, so traffic fails over to healthy ones.
//
// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=odp,categories=causeway
// +kubebuilder:printcolumn:name="Accepted",type=string,JSONPath=`.status.conditions[?(@.type=="Accepted")].reason`
// +kubebuilder:printcolumn:name="Attached",type=integer,JSONPath=`.status.attachedDestinations`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type OutlierDetectionPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec OutlierDetectionPolicySpec `json:"spec"`
	// +optional
	Status DestinationPolicyStatus `json:"status,omitempty"`
}

// OutlierDetectionPolicySpec is what users write.
type OutlierDetectionPolicySpec struct {
	// ApplyToDestinations selects the VirtualDestinations the policy
	// applies to.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	ApplyToDestinations []DestinationSelector `json:"applyToDestinations"`
	// +optional
	// +kubebuilder:default={}
	Config OutlierDetectionConfig `json:"config,omitempty"`
}

// Defaults of OutlierDetectionConfig. maxEjectionPercent defaults to 100,
// not Envoy's 10: with 10% a small pool never ejects enough to fail over.
const (
	DefaultConsecutiveErrors  int32 = 5
	DefaultInterval                 = 10 * time.Second
	DefaultBaseEjectionTime         = 30 * time.Second
	DefaultMaxEjectionPercent int32 = 100
)

// OutlierDetectionConfig says when an endpoint is ejected. Nil fields take
// the defaults (the API server fills them in; offline readers use the
// ...OrDefault accessors).
type OutlierDetectionConfig struct {
	// ConsecutiveErrors (5xx or connection failures) before ejection.
	// +optional
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	ConsecutiveErrors *int32 `json:"consecutiveErrors,omitempty"`
	// Interval between ejection sweeps.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="interval must be positive"
	Interval *metav1.Duration `json:"interval,omitempty"`
	// BaseEjectionTime, multiplied by how often the endpoint was ejected.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="baseEjectionTime must be positive"
	BaseEjectionTime *metav1.Duration `json:"baseEjectionTime,omitempty"`
	// MaxEjectionPercent of the endpoints that may be ejected at once.
	// +optional
	// +kubebuilder:default=100
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MaxEjectionPercent *int32 `json:"maxEjectionPercent,omitempty"`
}

// ConsecutiveErrorsOrDefault returns ConsecutiveErrors or its default.
func (c *OutlierDetectionConfig) ConsecutiveErrorsOrDefault() int32 {
	if c == nil || c.ConsecutiveErrors == nil {
		return DefaultConsecutiveErrors
	}
	return *c.ConsecutiveErrors
}

// IntervalOrDefault returns Interval or its default.
func (c *OutlierDetectionConfig) IntervalOrDefault() time.Duration {
	if c == nil || c.Interval == nil {
		return DefaultInterval
	}
	return c.Interval.Duration
}

// BaseEjectionTimeOrDefault returns BaseEjectionTime or its default.
func (c *OutlierDetectionConfig) BaseEjectionTimeOrDefault() time.Duration {
	if c == nil || c.BaseEjectionTime == nil {
		return DefaultBaseEjectionTime
	}
	return c.BaseEjectionTime.Duration
}

// MaxEjectionPercentOrDefault returns MaxEjectionPercent or its default.
func (c *OutlierDetectionConfig) MaxEjectionPercentOrDefault() int32 {
	if c == nil || c.MaxEjectionPercent == nil {
		return DefaultMaxEjectionPercent
	}
	return *c.MaxEjectionPercent
}

// OutlierDetectionPolicyList is a list of OutlierDetectionPolicies.
//
// +kubebuilder:object:root=true
type OutlierDetectionPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OutlierDetectionPolicy `json:"items"`
}
