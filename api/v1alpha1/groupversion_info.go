package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is Causeway's API group.
const GroupName = "networking.causeway.dev"

// SchemeGroupVersion is the group and version of every type in this package.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

var (
	// SchemeBuilder registers this package's types with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds this package's types to a scheme, e.g. for a typed
	// decoder or a dynamic client's converter.
	AddToScheme = SchemeBuilder.AddToScheme
)

// Resource returns a GroupResource of this group, as API errors name them.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&VirtualDestination{}, &VirtualDestinationList{},
		&ExternalService{}, &ExternalServiceList{},
		&FailoverPolicy{}, &FailoverPolicyList{},
		&OutlierDetectionPolicy{}, &OutlierDetectionPolicyList{},
		&Workspace{}, &WorkspaceList{},
		&GatewayParameters{}, &GatewayParametersList{},
	)
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
