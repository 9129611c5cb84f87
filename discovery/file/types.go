package file

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
)

// Document shapes of the world file. Ports are int64 so that out-of-range
// values reach validation (with a field path) instead of failing decoding.

const (
	worldAPIVersion   = "world.causeway.dev/v1alpha1"
	networkAPIVersion = "networking.causeway.dev/v1alpha1"
	gatewayAPIVersion = "gateway.networking.k8s.io/v1"
	// coreAPIVersion is Kubernetes' core group: Namespace (and Secret) documents.
	coreAPIVersion = "v1"
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
	// AppProtocol is a Kubernetes Service port's appProtocol (kubernetes.io/ws, kubernetes.io/h2c, ...).
	AppProtocol string `json:"appProtocol,omitempty"`
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

// virtualDestinationDoc is a v1alpha1.VirtualDestination whose
// metadata.creationTimestamp is read as text: parser.age reports a bad one
// naming the field, where decoding a metav1.Time would fail the document.
type virtualDestinationDoc struct {
	v1alpha1.VirtualDestination `json:",inline"`
	Metadata                    textTimestampMeta `json:"metadata"`
}

type textTimestampMeta struct {
	metav1.ObjectMeta `json:",inline"`
	CreationTimestamp string `json:"creationTimestamp,omitempty"`
}
