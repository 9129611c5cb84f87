package model

import (
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// Locality is where an endpoint or proxy runs, as Kubernetes topology labels
// describe it (topology.kubernetes.io/region, /zone and a subzone label).
type Locality struct {
	Region  string `json:"region,omitempty"`
	Zone    string `json:"zone,omitempty"`
	Subzone string `json:"subzone,omitempty"`
}

// String renders the locality as region/zone/subzone.
func (l Locality) String() string { return l.Region + "/" + l.Zone + "/" + l.Subzone }

// GatewayAddress is one reachable address of a cluster's east-west gateway.
type GatewayAddress struct {
	Address string `json:"address"`
	Port    uint32 `json:"port"`
}

// Cluster is one workload cluster.
type Cluster struct {
	Name    string
	Network string
	// Locality is the default for endpoints and proxies that name none.
	Locality Locality
	// EastWestGateways are the addresses other clusters use to reach this
	// cluster's services. Several are allowed so that one ejection does not
	// remove the whole cluster.
	EastWestGateways []GatewayAddress
	// GatewayServiceAddresses are the addresses of the Services Causeway
	// provisioned for Gateways in this cluster (model/provision.go).
	GatewayServiceAddresses []GatewayServiceAddress
}

// ServicePort is one port of a Service. TargetPort is the endpoint port the
// Service port forwards to (defaults to Port). AppProtocol is the port's
// appProtocol as written (kubernetes.io/ws, kubernetes.io/h2c, grpc, ...);
// Protocol is a world file's protocol (HTTP, HTTP2, GRPC, H2C). Gateways
// read the first that is set to pick the upstream HTTP version.
type ServicePort struct {
	Name        string
	Port        uint32
	TargetPort  uint32
	Protocol    string
	AppProtocol string
}

// EndpointPort is one named port on an endpoint (as in an EndpointSlice).
type EndpointPort struct {
	Name string
	Port uint32
}

// Endpoint is one backing instance of a Service. A snapshot holds
// hundreds of thousands: the booleans come last so they share one word.
type Endpoint struct {
	Address  string
	Ports    []EndpointPort
	Locality Locality
	Labels   map[string]string
	Ready    bool
	// Stale marks an endpoint last seen in a cluster Causeway cannot reach
	// any more: it is kept (nothing is lost while there is no alternative)
	// but ranked below every fresh endpoint.
	Stale bool
}

// Service is a Kubernetes Service in one cluster together with its endpoints.
type Service struct {
	Cluster   string
	Namespace string
	Name      string
	Labels    map[string]string
	Ports     []ServicePort
	Endpoints []Endpoint
}

// Key identifies the service across clusters.
func (s *Service) Key() ServiceKey {
	return ServiceKey{Cluster: s.Cluster, Namespace: s.Namespace, Name: s.Name}
}

// ServiceKey identifies a Service.
type ServiceKey struct {
	Cluster, Namespace, Name string
}

func (k ServiceKey) String() string { return k.Cluster + "/" + k.Namespace + "/" + k.Name }

// TargetPort names the endpoint port a VirtualDestination port forwards to,
// by number or by the name of the backing Service's port.
type TargetPort struct {
	Number uint32 `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
}

// VirtualDestinationPort is one port a VirtualDestination host serves.
type VirtualDestinationPort struct {
	Number     uint32      `json:"number"`
	Protocol   string      `json:"protocol,omitempty"`
	TargetPort *TargetPort `json:"targetPort,omitempty"`
}

// ServiceSelector selects backing Services. Empty fields match everything;
// Labels must all match the Service's labels.
type ServiceSelector struct {
	Labels    map[string]string `json:"labels,omitempty"`
	Name      string            `json:"name,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
	Cluster   string            `json:"cluster,omitempty"`
}

// TrafficDistribution values, as in Service.spec.trafficDistribution.
const (
	// TrafficDistributionDefault (unset) balances over every ready backend
	// in every cluster.
	TrafficDistributionDefault = ""
	// TrafficDistributionPreferClose prioritises endpoints by locality
	// relative to the proxy and fails over to the next-closest.
	TrafficDistributionPreferClose = "PreferClose"
)

// VirtualDestination is one internal hostname (or several) for an app spread
// over clusters, selecting its backing Services by labels.
type VirtualDestination struct {
	Namespace string
	Name      string
	// Spec fields keep the names users know from the product documents.
	Hosts               []string                 `json:"hosts"`
	Ports               []VirtualDestinationPort `json:"ports"`
	Services            []ServiceSelector        `json:"services"`
	TrafficDistribution string                   `json:"trafficDistribution,omitempty"`
	// Labels are the object's labels; policies select VirtualDestinations by them.
	Labels map[string]string `json:"-"`
	// ExternalServices selects ExternalServices (labels, name, namespace).
	ExternalServices []ServiceSelector `json:"externalServices,omitempty"`
	// Subsets name parts of the backends a route can target.
	Subsets []Subset `json:"subsets,omitempty"`
	// Age decides host conflicts: the older VirtualDestination wins.
	Age Age `json:"-"`
}

// Gateway is an upstream Gateway API Gateway. Gateways are served by gateway
// proxies of the cluster named in the annotation ClusterAnnotation, or of
// every cluster when the annotation is absent.
type Gateway = gwv1.Gateway

// HTTPRoute is an upstream Gateway API HTTPRoute.
type HTTPRoute = gwv1.HTTPRoute

// ReferenceGrant is an upstream Gateway API ReferenceGrant: it allows
// references from objects in other namespaces to objects in its own.
type ReferenceGrant = gwv1beta1.ReferenceGrant

// ClusterAnnotation on a Gateway names the cluster whose gateway proxies serve it.
const ClusterAnnotation = "causeway.dev/cluster"

// APIGroup is Causeway's own API group, used for VirtualDestination
// references and Hostname backendRefs.
const APIGroup = "networking.causeway.dev"

// IstioAPIGroup is the group users know for Hostname backendRefs.
const IstioAPIGroup = "networking.istio.io"
