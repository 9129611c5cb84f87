package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GatewayParameters configures the gateway proxies Causeway provisions for
// the Gateways of a GatewayClass: a GatewayClass names one in
// spec.parametersRef (group networking.causeway.dev, kind
// GatewayParameters, with its namespace). Every field has a default, so a
// class without parametersRef gets the defaults.
//
// +genclient
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,shortName=gwparams,categories=causeway
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.spec.replicas`
// +kubebuilder:printcolumn:name="Service",type=string,JSONPath=`.spec.service.type`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GatewayParameters struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec GatewayParametersSpec `json:"spec,omitempty"`
}

// Defaults of GatewayParametersSpec, also applied by the CRD on admission.
const (
	DefaultGatewayReplicas = 1
	// DefaultEnvoyImage is the Envoy the tests run (the Makefile's
	// ENVOY_VERSION; a test keeps the two equal).
	DefaultEnvoyImage = "envoyproxy/envoy:v1.40.0"
	// DefaultGatewayServiceType is the provisioned Service's type.
	DefaultGatewayServiceType = corev1.ServiceTypeLoadBalancer
)

// GatewayParametersSpec is what users write.
type GatewayParametersSpec struct {
	// Replicas of each Gateway's Envoy Deployment.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	Replicas *int32 `json:"replicas,omitempty"`
	// Image is the Envoy container image.
	// +optional
	// +kubebuilder:default="envoyproxy/envoy:v1.40.0"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`
	// Resources of the Envoy container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// Service configures the Service in front of each Gateway's Envoys.
	// +optional
	Service *GatewayServiceParameters `json:"service,omitempty"`
}

// GatewayServiceParameters configures a provisioned gateway Service.
type GatewayServiceParameters struct {
	// Type of the Service.
	// +optional
	// +kubebuilder:default=LoadBalancer
	// +kubebuilder:validation:Enum=LoadBalancer;NodePort;ClusterIP
	Type corev1.ServiceType `json:"type,omitempty"`
	// Annotations added to the Service (for example a cloud load
	// balancer's settings).
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ReplicasOrDefault returns Replicas or its default, for offline readers
// and a GatewayClass without parametersRef.
func (s *GatewayParametersSpec) ReplicasOrDefault() int32 {
	if s == nil || s.Replicas == nil {
		return DefaultGatewayReplicas
	}
	return *s.Replicas
}

// ImageOrDefault returns Image or its default.
func (s *GatewayParametersSpec) ImageOrDefault() string {
	if s == nil || s.Image == "" {
		return DefaultEnvoyImage
	}
	return s.Image
}

// ServiceTypeOrDefault returns Service.Type or its default.
func (s *GatewayParametersSpec) ServiceTypeOrDefault() corev1.ServiceType {
	if s == nil || s.Service == nil || s.Service.Type == "" {
		return DefaultGatewayServiceType
	}
	return s.Service.Type
}

// GatewayParametersList is a list of GatewayParameters.
//
// +kubebuilder:object:root=true
type GatewayParametersList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GatewayParameters `json:"items"`
}
