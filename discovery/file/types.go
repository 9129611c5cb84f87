package file

import "github.com/causeway-dev/causeway/api/v1alpha1"

// Document shapes of the world file. Ports are int64 so that out-of-range
// values reach validation (with a field path) instead of failing decoding.

const (
	worldAPIVersion   = "world.causeway.dev/v1alpha1"
	networkAPIVersion = "networking.causeway.dev/v1alpha1"
	gatewayAPIVersion = "gateway.networking.k8s.io/v1"
	// ReferenceGrant is served as v1beta1 only.
	gatewayBetaAPIVersion = "gateway.networking.k8s.io/v1beta1"

	defaultNamespace    = "default"
	defaultEastWestPort = 15443
)

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// CreationTimestamp (RFC 3339) is optional: it lets a world file say
	// which of two conflicting objects is older, as in Kubernetes; without
	// it document order decides.
	CreationTimestamp string `json:"creationTimestamp,omitempty"`
}

// header is decoded leniently first, to dispatch and to name the document
// in errors even when strict decoding fails.
type header struct {
	typeMeta `json:",inline"`
	Metadata objectMeta `json:"metadata"`
}

type locality struct {
	Region  string `json:"region,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Subzone string `json:"subzone,omitempty"`
}

type clusterDoc struct {
	typeMeta `json:",inline"`
	Metadata objectMeta  `json:"metadata"`
	Spec     clusterSpec `json:"spec"`
}

type clusterSpec struct {
	Network          string           `json:"network,omitempty"`
	Locality         locality         `json:"locality,omitempty"`
	EastWestGateways []gatewayAddress `json:"eastWestGateways,omitempty"`
}

type gatewayAddress struct {
	Address string `json:"address"`
	Port    int64  `json:"port,omitempty"`
}

type serviceDoc struct {
	typeMeta `json:",inline"`
	Metadata objectMeta  `json:"metadata"`
	Spec     serviceSpec `json:"spec"`
}

type serviceSpec struct {
	Cluster   string        `json:"cluster"`
	Ports     []servicePort `json:"ports,omitempty"`
	Endpoints []endpoint    `json:"endpoints,omitempty"`
}

type servicePort struct {
	Name       string `json:"name,omitempty"`
	Port       int64  `json:"port"`
	TargetPort int64  `json:"targetPort,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
}

type endpoint struct {
	Address  string            `json:"address"`
	Ready    *bool             `json:"ready,omitempty"`
	Locality *locality         `json:"locality,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Ports    []endpointPort    `json:"ports,omitempty"`
}

type endpointPort struct {
	Name string `json:"name,omitempty"`
	Port int64  `json:"port"`
}

type virtualDestinationDoc struct {
	typeMeta `json:",inline"`
	Metadata objectMeta             `json:"metadata"`
	Spec     virtualDestinationSpec `json:"spec"`
}

type virtualDestinationSpec struct {
	Hosts               []string                  `json:"hosts"`
	Ports               []vdPort                  `json:"ports"`
	Services            []serviceSelector         `json:"services,omitempty"`
	ExternalServices    []externalServiceSelector `json:"externalServices,omitempty"`
	Subsets             []v1alpha1.Subset         `json:"subsets,omitempty"`
	TrafficDistribution string                    `json:"trafficDistribution,omitempty"`
}

// externalServiceSelector has no cluster: ExternalServices are not in one.
type externalServiceSelector struct {
	Labels    map[string]string `json:"labels,omitempty"`
	Name      string            `json:"name,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
}

type vdPort struct {
	Number     int64       `json:"number"`
	Protocol   string      `json:"protocol,omitempty"`
	TargetPort *targetPort `json:"targetPort,omitempty"`
}

type targetPort struct {
	Number int64  `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
}

type serviceSelector struct {
	Labels    map[string]string `json:"labels,omitempty"`
	Name      string            `json:"name,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
	Cluster   string            `json:"cluster,omitempty"`
}
