package kube

import (
	"fmt"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// ClusterInfo is what Causeway knows about a workload cluster apart from its
// objects: from the cluster config file or a cluster Secret, plus whether
// it has been unreachable for longer than the stale threshold.
type ClusterInfo struct {
	// Network defaults to Name: each cluster its own network.
	Name, Network string
	// Locality is the default for endpoints whose Node and EndpointSlice
	// say nothing about where they run.
	Locality model.Locality
	// EastWestGateways, when set, override the ones discovered from
	// Services labelled EastWestGatewayLabel.
	EastWestGateways []model.GatewayAddress
	// Stale marks every endpoint of the cluster Stale.
	Stale bool
}

// WorkloadObjects are the objects read from one workload cluster.
type WorkloadObjects struct {
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Pods           []*corev1.Pod
	Nodes          []*corev1.Node
}

// ConfigObjects are the objects read from the management cluster.
type ConfigObjects struct {
	VirtualDestinations      []*v1alpha1.VirtualDestination
	ExternalServices         []*v1alpha1.ExternalService
	FailoverPolicies         []*v1alpha1.FailoverPolicy
	OutlierDetectionPolicies []*v1alpha1.OutlierDetectionPolicy
	// Workspaces are cluster-scoped.
	Workspaces []*v1alpha1.Workspace
	// GatewayClasses are cluster-scoped.
	GatewayClasses  []*gwv1.GatewayClass
	Gateways        []*gwv1.Gateway
	HTTPRoutes      []*gwv1.HTTPRoute
	ReferenceGrants []*gwv1beta1.ReferenceGrant
	// Namespaces (for their labels) and kubernetes.io/tls Secrets.
	Namespaces []*corev1.Namespace
	TLSSecrets []*corev1.Secret
	// GatewayParameters are what GatewayClass parametersRef names.
	GatewayParameters []*v1alpha1.GatewayParameters
}

// Labels and keys Causeway reads from workload clusters.
const (
	// EastWestGatewayLabel marks a Service whose load-balancer ingress
	// addresses are the cluster's east-west gateways (value "true").
	EastWestGatewayLabel = "causeway.dev/east-west-gateway"
	// EastWestGatewayPortName names the Service port used for east-west
	// traffic; without one the Service's first port is used.
	EastWestGatewayPortName = "tls"
	// SubzoneLabel is the Node label for the subzone (Kubernetes defines
	// only region and zone; this is the label Istio users already set).
	SubzoneLabel = "topology.istio.io/subzone"
)

// BuildWorld converts the objects of every cluster and the management
// cluster into a model world. It is pure and does not modify its inputs.
//
// Objects that cannot be used are left out and reported, one error each
// naming the object and field; everything else is still converted, so one
// bad object never takes valid config down with it. workloads may hold
// clusters not in clusters (they are reported and ignored) and lack
// clusters that are (they have no services yet).
func BuildWorld(clusters []ClusterInfo, workloads map[string]*WorkloadObjects, config *ConfigObjects) (model.World, []error) {
	return assembleWorld(clusters, workloads, config, convertCluster, convertConfig)
}

// assembleWorld is BuildWorld with the conversions of a cluster and of the
// configuration passed in, so that the controller's incremental builder
// (worldCache) puts worlds together exactly as BuildWorld does.
func assembleWorld(clusters []ClusterInfo, workloads map[string]*WorkloadObjects, config *ConfigObjects,
	convertCluster func(ClusterInfo, *WorkloadObjects) (model.Cluster, []model.Service, []error),
	convertConfig func(*ConfigObjects, *model.World) []error,
) (model.World, []error) {
	var (
		w    model.World
		errs []error
	)
	known := map[string]bool{}
	var services [][]model.Service // per cluster, joined once (a world may hold 100,000s)
	for _, info := range clusters {
		if known[info.Name] {
			errs = append(errs, fmt.Errorf("cluster %q is listed twice; using the first", info.Name))
			continue
		}
		known[info.Name] = true
		objs := workloads[info.Name]
		if objs == nil {
			objs = &WorkloadObjects{}
		}
		c, clusterServices, clusterErrs := convertCluster(info, objs)
		errs = append(errs, clusterErrs...)
		w.Clusters = append(w.Clusters, c)
		services = append(services, clusterServices)
	}
	w.Services = slices.Concat(services...)
	var unknown []string
	for name := range workloads {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		errs = append(errs, fmt.Errorf("objects of cluster %q ignored: no such cluster is configured", name))
	}
	if config != nil {
		errs = append(errs, convertConfig(config, &w)...)
	}
	return w, errs
}
