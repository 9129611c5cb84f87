package kube

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// Object builders keep the cases about their data.

func service(ns, name string, labels map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:       corev1.ServiceSpec{Ports: ports},
	}
}

func servicePort(name string, port int32, target intstr.IntOrString) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: port, TargetPort: target, Protocol: corev1.ProtocolTCP}
}

func slice(ns, name, svc string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       ports,
		Endpoints:   eps,
	}
}

func slicePort(name string, port int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr.To(name), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}
}

// endpoint is ready unless conditions say otherwise; opts set node, zone or pod.
func endpoint(addr string, opts ...func(*discoveryv1.Endpoint)) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{addr}}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func onNode(n string) func(*discoveryv1.Endpoint) {
	return func(e *discoveryv1.Endpoint) { e.NodeName = ptr.To(n) }
}
func inZone(z string) func(*discoveryv1.Endpoint) {
	return func(e *discoveryv1.Endpoint) { e.Zone = ptr.To(z) }
}
func ofPod(ns, name string) func(*discoveryv1.Endpoint) {
	return func(e *discoveryv1.Endpoint) {
		e.TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name}
	}
}
func conditions(ready, serving, terminating *bool) func(*discoveryv1.Endpoint) {
	return func(e *discoveryv1.Endpoint) {
		e.Conditions = discoveryv1.EndpointConditions{Ready: ready, Serving: serving, Terminating: terminating}
	}
}

func pod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
}

func node(name string, labels map[string]string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// created is a creationTimestamp, as the API server sets it.
var created = metav1.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// withMeta sets an object's creationTimestamp and labels.
func withMeta(t metav1.Time, labels map[string]string) func(*metav1.ObjectMeta) {
	return func(m *metav1.ObjectMeta) { m.CreationTimestamp, m.Labels = t, labels }
}

var (
	validExternalService = &v1alpha1.ExternalService{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "ratings-vm", Labels: map[string]string{"app": "ratings"}},
		Spec: v1alpha1.ExternalServiceSpec{
			Hosts:     []string{"ratings.vm.example.com"},
			Ports:     []v1alpha1.ExternalServicePort{{Number: 9080, Name: "http"}},
			Endpoints: []v1alpha1.ExternalEndpoint{{Address: "192.0.2.10", Ports: map[string]int32{"http": 8080}}, {Address: "ratings.example.com"}},
		},
	}
	validFailoverPolicy = &v1alpha1.FailoverPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "failover", CreationTimestamp: created},
		Spec: v1alpha1.FailoverPolicySpec{
			ApplyToDestinations: []v1alpha1.DestinationSelector{{Selector: v1alpha1.ObjectSelector{Labels: map[string]string{"failover": "true"}}}},
			Config:              v1alpha1.FailoverConfig{PriorityLabels: &v1alpha1.PriorityLabels{Labels: []string{"topology.kubernetes.io/region"}}},
		},
	}
	validOutlierPolicy = &v1alpha1.OutlierDetectionPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "outliers"},
		Spec: v1alpha1.OutlierDetectionPolicySpec{
			ApplyToDestinations: []v1alpha1.DestinationSelector{{Selector: v1alpha1.ObjectSelector{Name: "reviews"}}},
			Config:              v1alpha1.OutlierDetectionConfig{ConsecutiveErrors: ptr.To(int32(3))},
		},
	}
	validWorkspace = &v1alpha1.Workspace{
		ObjectMeta: metav1.ObjectMeta{Name: "team-a"},
		Spec: v1alpha1.WorkspaceSpec{
			WorkloadClusters: []v1alpha1.WorkspaceCluster{
				{Name: "*", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "bookinfo"}}},
				{Name: "cluster-1", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "*"}}},
			},
			ImportFrom: []v1alpha1.WorkspaceRef{{Name: "shared"}},
			ExportTo:   []v1alpha1.WorkspaceRef{{Name: "*"}},
			// The API server defaults hostSuffix; offline objects may lack it.
			Federation: &v1alpha1.WorkspaceFederation{Enabled: true, ServiceSelector: []v1alpha1.ExternalServiceSelector{{Namespace: "bookinfo"}}},
		},
	}
)

func virtualDestination(ns, name string, mutate func(*v1alpha1.VirtualDestinationSpec), meta ...func(*metav1.ObjectMeta)) *v1alpha1.VirtualDestination {
	vd := &v1alpha1.VirtualDestination{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.VirtualDestinationSpec{
			Hosts:    []string{"reviews.mesh.internal.com"},
			Ports:    []v1alpha1.VirtualDestinationPort{{Number: 9080, Protocol: "HTTP"}},
			Services: []v1alpha1.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
		},
	}
	if mutate != nil {
		mutate(&vd.Spec)
	}
	for _, m := range meta {
		m(&vd.ObjectMeta)
	}
	return vd
}

var (
	east           = model.Locality{Region: "us-east", Zone: "us-east-1a"}
	cluster1       = ClusterInfo{Name: "cluster-1", Network: "network-1", Locality: east}
	httpPort       = []discoveryv1.EndpointPort{slicePort("http", 9080)}
	modelHTTPPort  = []model.EndpointPort{{Name: "http", Port: 9080}}
	reviewsPorts   = []model.ServicePort{{Name: "http", Port: 9080, TargetPort: 9080}}
	reviewsService = service("bookinfo", "reviews", map[string]string{"app": "reviews"}, servicePort("http", 9080, intstr.FromInt32(9080)))
)

// world1 is the expected world of cluster-1 with the given services.
func world1(services ...model.Service) model.World {
	return model.World{
		Clusters: []model.Cluster{{Name: "cluster-1", Network: "network-1", Locality: east}},
		Services: services,
	}
}

func reviews(eps ...model.Endpoint) model.Service {
	return model.Service{Cluster: "cluster-1", Namespace: "bookinfo", Name: "reviews", Labels: map[string]string{"app": "reviews"}, Ports: reviewsPorts, Endpoints: eps}
}

func TestBuildWorld(t *testing.T) {
	yes, no := ptr.To(true), ptr.To(false)
	for _, tc := range []struct {
		name      string
		clusters  []ClusterInfo
		workloads map[string]*WorkloadObjects
		config    *ConfigObjects
		want      model.World
		wantErrs  []string
	}{
		{
			name:     "readiness from conditions",
			clusters: []ClusterInfo{cluster1},
			workloads: map[string]*WorkloadObjects{"cluster-1": {
				Services: []*corev1.Service{reviewsService},
				EndpointSlices: []*discoveryv1.EndpointSlice{slice("bookinfo", "reviews-abc", "reviews", httpPort,
					endpoint("10.0.0.1"), // ready unset: ready
					endpoint("10.0.0.2", conditions(yes, yes, no)),
					endpoint("10.0.0.3", conditions(no, nil, nil)),
					endpoint("10.0.0.4", conditions(yes, no, nil)),  // not serving
					endpoint("10.0.0.5", conditions(yes, yes, yes)), // terminating
				)},
			}},
			want: world1(reviews(
				model.Endpoint{Address: "10.0.0.1", Ports: modelHTTPPort, Locality: east, Ready: true},
				model.Endpoint{Address: "10.0.0.2", Ports: modelHTTPPort, Locality: east, Ready: true},
				model.Endpoint{Address: "10.0.0.3", Ports: modelHTTPPort, Locality: east},
				model.Endpoint{Address: "10.0.0.4", Ports: modelHTTPPort, Locality: east},
				model.Endpoint{Address: "10.0.0.5", Ports: modelHTTPPort, Locality: east},
			)),
		},
		{
			name:     "service ports: named, numeric and unset targetPort, appProtocol, UDP left out",
			clusters: []ClusterInfo{cluster1},
			workloads: map[string]*WorkloadObjects{"cluster-1": {
				Services: []*corev1.Service{service("bookinfo", "reviews", nil,
					servicePort("http", 9080, intstr.FromString("web")),
					servicePort("admin", 9090, intstr.FromInt32(19090)),
					corev1.ServicePort{Name: "grpc", Port: 9091, AppProtocol: ptr.To("kubernetes.io/h2c")},
					corev1.ServicePort{Name: "chat", Port: 9092, AppProtocol: ptr.To("kubernetes.io/ws")},
					corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
				)},
				EndpointSlices: []*discoveryv1.EndpointSlice{slice("bookinfo", "reviews-abc", "reviews",
					[]discoveryv1.EndpointPort{slicePort("http", 8080), slicePort("admin", 19090), {Name: ptr.To("dns"), Port: ptr.To[int32](53), Protocol: ptr.To(corev1.ProtocolUDP)}},
					endpoint("10.0.0.1"))},
			}},
			want: world1(model.Service{
				Cluster: "cluster-1", Namespace: "bookinfo", Name: "reviews",
				Ports: []model.ServicePort{
					{Name: "http", Port: 9080, TargetPort: 0}, // the EndpointSlice port carries the number
					{Name: "admin", Port: 9090, TargetPort: 19090},
					{Name: "grpc", Port: 9091, TargetPort: 9091, AppProtocol: "kubernetes.io/h2c"},
					{Name: "chat", Port: 9092, TargetPort: 9092, AppProtocol: "kubernetes.io/ws"},
				},
				Endpoints: []model.Endpoint{{Address: "10.0.0.1", Ports: []model.EndpointPort{{Name: "http", Port: 8080}, {Name: "admin", Port: 19090}}, Locality: east, Ready: true}},
			}),
		},
		{
			name:     "endpoint labels from the Pod in targetRef",
			clusters: []ClusterInfo{cluster1},
			workloads: map[string]*WorkloadObjects{"cluster-1": {
				Services: []*corev1.Service{reviewsService},
				EndpointSlices: []*discoveryv1.EndpointSlice{slice("bookinfo", "reviews-abc", "reviews", httpPort,
					endpoint("10.0.0.1", ofPod("", "reviews-v1-a")), // namespace from the slice
					endpoint("10.0.0.2", ofPod("bookinfo", "reviews-v2-b")),
					endpoint("10.0.0.3", ofPod("bookinfo", "gone")),
					endpoint("10.0.0.4", func(e *discoveryv1.Endpoint) {
						e.TargetRef = &corev1.ObjectReference{Kind: "VirtualMachine", Name: "reviews-v1-a"}
					}),
				)},
				Pods: []*corev1.Pod{
					pod("bookinfo", "reviews-v1-a", map[string]string{"app": "reviews", "version": "v1"}),
					pod("bookinfo", "reviews-v2-b", map[string]string{"app": "reviews", "version": "v2"}),
					pod("other", "gone", map[string]string{"version": "wrong-namespace"}),
				},
			}},
			want: world1(reviews(
				model.Endpoint{Address: "10.0.0.1", Ports: modelHTTPPort, Locality: east, Ready: true, Labels: map[string]string{"app": "reviews", "version": "v1"}},
				model.Endpoint{Address: "10.0.0.2", Ports: modelHTTPPort, Locality: east, Ready: true, Labels: map[string]string{"app": "reviews", "version": "v2"}},
				model.Endpoint{Address: "10.0.0.3", Ports: modelHTTPPort, Locality: east, Ready: true},
				model.Endpoint{Address: "10.0.0.4", Ports: modelHTTPPort, Locality: east, Ready: true},
			)),
		},
		{
			name:     "locality from the Node, else the slice zone, else the cluster default",
			clusters: []ClusterInfo{cluster1},
			workloads: map[string]*WorkloadObjects{"cluster-1": {
				Services: []*corev1.Service{reviewsService},
				EndpointSlices: []*discoveryv1.EndpointSlice{slice("bookinfo", "reviews-abc", "reviews", httpPort,
					endpoint("10.0.0.1", onNode("node-b"), inZone("ignored")),
					endpoint("10.0.0.2", onNode("unlabelled"), inZone("us-east-1c")),
					endpoint("10.0.0.3", onNode("missing"), inZone("us-east-1d")),
					endpoint("10.0.0.4"),
					endpoint("10.0.0.5", onNode("unlabelled")),
				)},
				Nodes: []*corev1.Node{
					node("node-b", map[string]string{corev1.LabelTopologyRegion: "us-west", corev1.LabelTopologyZone: "us-west-1b", SubzoneLabel: "rack-7"}),
					node("unlabelled", map[string]string{"kubernetes.io/hostname": "unlabelled"}),
				},
			}},
			want: world1(reviews(
				model.Endpoint{Address: "10.0.0.1", Ports: modelHTTPPort, Locality: model.Locality{Region: "us-west", Zone: "us-west-1b", Subzone: "rack-7"}, Ready: true},
				model.Endpoint{Address: "10.0.0.2", Ports: modelHTTPPort, Locality: model.Locality{Region: "us-east", Zone: "us-east-1c"}, Ready: true},
				model.Endpoint{Address: "10.0.0.3", Ports: modelHTTPPort, Locality: model.Locality{Region: "us-east", Zone: "us-east-1d"}, Ready: true},
				model.Endpoint{Address: "10.0.0.4", Ports: modelHTTPPort, Locality: east, Ready: true},
				model.Endpoint{Address: "10.0.0.5", Ports: modelHTTPPort, Locality: east, Ready: true},
			)),
		},
		{
			name:     "slices: dedupe across slices preferring ready, FQDN and unlabelled slices ignored, sorted by address",
			clusters: []ClusterInfo{cluster1},
			workloads: map[string]*WorkloadObjects{"cluster-1": {
				Services: []*corev1.Service{reviewsService, service("bookinfo", "cname", nil, servicePort("http", 80, intstr.IntOrString{}))},
				EndpointSlices: []*discoveryv1.EndpointSlice{
					slice("bookinfo", "reviews-b", "reviews", httpPort, endpoint("10.0.0.9"), endpoint("10.0.0.1")),
					slice("bookinfo", "reviews-a", "reviews", httpPort, endpoint("10.0.0.9", conditions(no, nil, nil)), endpoint("10.0.0.1", conditions(no, nil, nil))),
					slice("bookinfo", "reviews-c", "reviews", httpPort, endpoint("10.0.0.9", conditions(no, nil, nil))),
					func() *discoveryv1.EndpointSlice {
						s := slice("bookinfo", "reviews-fqdn", "reviews", httpPort, endpoint("reviews.example.com"))
						s.AddressType = discoveryv1.AddressTypeFQDN
						return s
					}(),
					func() *discoveryv1.EndpointSlice {
						s := slice("bookinfo", "custom", "reviews", httpPort, endpoint("10.0.0.50"))
						s.Labels = nil
						return s
					}(),
					slice("other", "reviews-x", "reviews", httpPort, endpoint("10.0.0.60")), // another namespace's reviews
				},
			}},
			want: world1(
				model.Service{Cluster: "cluster-1", Namespace: "bookinfo", Name: "cname", Ports: []model.ServicePort{{Name: "http", Port: 80, TargetPort: 80}}},
				reviews(
					model.Endpoint{Address: "10.0.0.1", Ports: modelHTTPPort, Locality: east, Ready: true},
					model.Endpoint{Address: "10.0.0.9", Ports: modelHTTPPort, Locality: east, Ready: true},
				),
			),
		},
		{
			name:     "ExternalName services are left out",
			clusters: []ClusterInfo{cluster1},
			workloads: map[string]*WorkloadObjects{"cluster-1": {
				Services: []*corev1.Service{func() *corev1.Service {
					s := service("bookinfo", "alias", nil, servicePort("http", 80, intstr.IntOrString{}))
					s.Spec.Type = corev1.ServiceTypeExternalName
					s.Spec.ExternalName = "example.com"
					return s
				}()},
			}},
			want: world1(),
		},
		{
			name: "east-west gateways from labelled Services; config wins; network defaults to the name",
			clusters: []ClusterInfo{
				{Name: "cluster-1", Locality: east},
				{Name: "cluster-2", EastWestGateways: []model.GatewayAddress{{Address: "192.0.2.1", Port: 15443}}},
			},
			workloads: map[string]*WorkloadObjects{
				"cluster-1": {Services: []*corev1.Service{
					func() *corev1.Service {
						s := service("causeway-system", "eastwest", map[string]string{EastWestGatewayLabel: "true"},
							servicePort("status", 15021, intstr.IntOrString{}), servicePort("tls", 15443, intstr.FromInt32(8443)))
						s.Spec.Type = corev1.ServiceTypeLoadBalancer
						s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.18.1.100"}, {IP: "198.18.1.101"}, {Hostname: "lb.example.com"}}
						return s
					}(),
					func() *corev1.Service {
						s := service("causeway-system", "eastwest-untls", map[string]string{EastWestGatewayLabel: "true"}, servicePort("other", 16443, intstr.IntOrString{}))
						s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.18.1.102"}, {IP: "198.18.1.100"}}
						return s
					}(),
					func() *corev1.Service {
						s := service("causeway-system", "not-eastwest", map[string]string{EastWestGatewayLabel: "false"}, servicePort("tls", 15443, intstr.IntOrString{}))
						s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.18.1.200"}}
						return s
					}(),
				}},
				"cluster-2": {Services: []*corev1.Service{func() *corev1.Service {
					s := service("causeway-system", "eastwest", map[string]string{EastWestGatewayLabel: "true"}, servicePort("tls", 15443, intstr.IntOrString{}))
					s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.18.2.100"}}
					return s
				}()}},
			},
			want: model.World{
				Clusters: []model.Cluster{
					{Name: "cluster-1", Network: "cluster-1", Locality: east, EastWestGateways: []model.GatewayAddress{
						{Address: "198.18.1.100", Port: 15443}, {Address: "198.18.1.101", Port: 15443}, {Address: "198.18.1.102", Port: 16443}, {Address: "198.18.1.100", Port: 16443},
					}},
					{Name: "cluster-2", Network: "cluster-2", EastWestGateways: []model.GatewayAddress{{Address: "192.0.2.1", Port: 15443}}},
				},
				Services: []model.Service{
					{Cluster: "cluster-1", Namespace: "causeway-system", Name: "eastwest", Labels: map[string]string{EastWestGatewayLabel: "true"},
						Ports: []model.ServicePort{{Name: "status", Port: 15021, TargetPort: 15021}, {Name: "tls", Port: 15443, TargetPort: 8443}}},
					{Cluster: "cluster-1", Namespace: "causeway-system", Name: "eastwest-untls", Labels: map[string]string{EastWestGatewayLabel: "true"},
						Ports: []model.ServicePort{{Name: "other", Port: 16443, TargetPort: 16443}}},
					{Cluster: "cluster-1", Namespace: "causeway-system", Name: "not-eastwest", Labels: map[string]string{EastWestGatewayLabel: "false"},
						Ports: []model.ServicePort{{Name: "tls", Port: 15443, TargetPort: 15443}}},
					{Cluster: "cluster-2", Namespace: "causeway-system", Name: "eastwest", Labels: map[string]string{EastWestGatewayLabel: "true"},
						Ports: []model.ServicePort{{Name: "tls", Port: 15443, TargetPort: 15443}}},
				},
			},
			wantErrs: []string{`Service causeway-system/eastwest in cluster cluster-1: status.loadBalancer.ingress[2]: hostname "lb.example.com" is not supported`},
		},
		{
			name:     "stale cluster: every endpoint stale",
			clusters: []ClusterInfo{{Name: "cluster-1", Network: "network-1", Locality: east, Stale: true}},
			workloads: map[string]*WorkloadObjects{"cluster-1": {
				Services: []*corev1.Service{reviewsService},
				EndpointSlices: []*discoveryv1.EndpointSlice{slice("bookinfo", "reviews-abc", "reviews", httpPort,
					endpoint("10.0.0.1"), endpoint("10.0.0.2", conditions(no, nil, nil)))},
			}},
			want: world1(reviews(
				model.Endpoint{Address: "10.0.0.1", Ports: modelHTTPPort, Locality: east, Ready: true, Stale: true},
				model.Endpoint{Address: "10.0.0.2", Ports: modelHTTPPort, Locality: east, Stale: true},
			)),
		},
		{
			name:     "objects of an unconfigured cluster are reported and ignored",
			clusters: []ClusterInfo{cluster1},
			workloads: map[string]*WorkloadObjects{
				"cluster-1": {},
				"cluster-9": {Services: []*corev1.Service{reviewsService}},
			},
			want:     world1(),
			wantErrs: []string{`objects of cluster "cluster-9" ignored: no such cluster is configured`},
		},
		{
			name:     "VirtualDestination and Gateway API objects",
			clusters: []ClusterInfo{cluster1},
			config: &ConfigObjects{
				VirtualDestinations: []*v1alpha1.VirtualDestination{virtualDestination("bookinfo", "reviews", func(s *v1alpha1.VirtualDestinationSpec) {
					s.Hosts = append(s.Hosts, "reviews.bookinfo.global")
					s.Ports = append(s.Ports, v1alpha1.VirtualDestinationPort{Number: 9443, Protocol: "GRPC", TargetPort: &v1alpha1.TargetPort{Name: "grpc"}},
						v1alpha1.VirtualDestinationPort{Number: 9444, TargetPort: &v1alpha1.TargetPort{Number: 19444}})
					s.Services = append(s.Services, v1alpha1.ServiceSelector{Name: "ratings", Namespace: "bookinfo", Cluster: "cluster-2"})
					s.ExternalServices = []v1alpha1.ExternalServiceSelector{{Name: "ratings-vm", Labels: map[string]string{"app": "ratings"}}}
					s.Subsets = []v1alpha1.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}}
					s.TrafficDistribution = "PreferClose"
				}, withMeta(created, map[string]string{"failover": "true"}))},
				ExternalServices:         []*v1alpha1.ExternalService{validExternalService},
				Gateways:                 []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "gloo-system", Name: "http"}, Spec: gwv1.GatewaySpec{GatewayClassName: "causeway"}}},
				HTTPRoutes:               []*gwv1.HTTPRoute{{ObjectMeta: metav1.ObjectMeta{Namespace: "gloo-system", Name: "reviews"}}},
				ReferenceGrants:          []*gwv1beta1.ReferenceGrant{{ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "from-gloo"}}},
				FailoverPolicies:         []*v1alpha1.FailoverPolicy{validFailoverPolicy},
				OutlierDetectionPolicies: []*v1alpha1.OutlierDetectionPolicy{validOutlierPolicy},
				Workspaces:               []*v1alpha1.Workspace{validWorkspace},
			},
			want: model.World{
				Clusters: world1().Clusters,
				VirtualDestinations: []model.VirtualDestination{{
					Namespace: "bookinfo", Name: "reviews",
					Hosts: []string{"reviews.mesh.internal.com", "reviews.bookinfo.global"},
					Ports: []model.VirtualDestinationPort{
						{Number: 9080, Protocol: "HTTP"},
						{Number: 9443, Protocol: "GRPC", TargetPort: &model.TargetPort{Name: "grpc"}},
						{Number: 9444, TargetPort: &model.TargetPort{Number: 19444}},
					},
					Services: []model.ServiceSelector{
						{Labels: map[string]string{"app": "reviews"}},
						{Name: "ratings", Namespace: "bookinfo", Cluster: "cluster-2"},
					},
					TrafficDistribution: "PreferClose",
					Labels:              map[string]string{"failover": "true"},
					ExternalServices:    []model.ServiceSelector{{Name: "ratings-vm", Labels: map[string]string{"app": "ratings"}}},
					Subsets:             []model.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}},
					Age:                 model.Age{CreationTimestamp: created.Time},
				}},
				ExternalServices:         []*model.ExternalService{validExternalService},
				FailoverPolicies:         []*model.FailoverPolicy{validFailoverPolicy},
				OutlierDetectionPolicies: []*model.OutlierDetectionPolicy{validOutlierPolicy},
				Workspaces: []model.Workspace{{
					Name:       "team-a",
					Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "bookinfo"}, {Cluster: "cluster-1", Namespace: "*"}},
					ImportFrom: []string{"shared"}, ExportTo: []string{"*"},
					Federation: &model.Federation{HostSuffix: "global", Selectors: []model.ServiceSelector{{Namespace: "bookinfo"}}},
				}},
				Gateways:        []*gwv1.Gateway{{ObjectMeta: metav1.ObjectMeta{Namespace: "gloo-system", Name: "http"}, Spec: gwv1.GatewaySpec{GatewayClassName: "causeway"}}},
				HTTPRoutes:      []*gwv1.HTTPRoute{{ObjectMeta: metav1.ObjectMeta{Namespace: "gloo-system", Name: "reviews"}}},
				ReferenceGrants: []*gwv1beta1.ReferenceGrant{{ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "from-gloo"}}},
			},
		},
		{
			name:     "invalid VirtualDestinations are reported and left out, valid ones kept",
			clusters: []ClusterInfo{cluster1},
			config: &ConfigObjects{VirtualDestinations: []*v1alpha1.VirtualDestination{
				virtualDestination("bookinfo", "bad-host", func(s *v1alpha1.VirtualDestinationSpec) { s.Hosts = []string{"*.mesh.internal.com"} }),
				virtualDestination("bookinfo", "bad-ports", func(s *v1alpha1.VirtualDestinationSpec) {
					s.Ports = []v1alpha1.VirtualDestinationPort{
						{Number: 0},
						{Number: 9080, Protocol: "UDP", TargetPort: &v1alpha1.TargetPort{Number: 1, Name: "http"}},
						{Number: 9080},
					}
				}),
				virtualDestination("bookinfo", "no-backends", func(s *v1alpha1.VirtualDestinationSpec) { s.Services = nil }),
				virtualDestination("bookinfo", "bad-distribution", func(s *v1alpha1.VirtualDestinationSpec) { s.TrafficDistribution = "PreferFar" }),
				virtualDestination("bookinfo", "empty", func(s *v1alpha1.VirtualDestinationSpec) { s.Hosts, s.Ports = nil, nil }),
				virtualDestination("bookinfo", "bad-subsets", func(s *v1alpha1.VirtualDestinationSpec) {
					s.Subsets = []v1alpha1.Subset{{Name: "v1", Labels: map[string]string{"a": "b"}}, {Name: "v1"}}
				}),
				virtualDestination("bookinfo", "good", nil),
			}},
			want: model.World{
				Clusters: world1().Clusters,
				VirtualDestinations: []model.VirtualDestination{{
					Namespace: "bookinfo", Name: "good", Hosts: []string{"reviews.mesh.internal.com"},
					Ports:    []model.VirtualDestinationPort{{Number: 9080, Protocol: "HTTP"}},
					Services: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
				}},
			},
			wantErrs: []string{
				`VirtualDestination bookinfo/bad-host: spec.hosts[0]: "*.mesh.internal.com" is not a valid hostname`,
				`VirtualDestination bookinfo/bad-ports: spec.ports[0].number: must be 1-65535, got 0`,
				`VirtualDestination bookinfo/bad-ports: spec.ports[1].protocol: "UDP" is not supported`,
				`VirtualDestination bookinfo/bad-ports: spec.ports[1].targetPort: set exactly one of number or name`,
				`VirtualDestination bookinfo/bad-ports: spec.ports[2].number: duplicate port 9080`,
				`VirtualDestination bookinfo/no-backends: spec.services: at least one of spec.services or spec.externalServices must select a backend`,
				`VirtualDestination bookinfo/bad-distribution: spec.trafficDistribution: "PreferFar" is not supported`,
				`VirtualDestination bookinfo/empty: spec.hosts: at least one host is required`,
				`VirtualDestination bookinfo/empty: spec.ports: at least one port is required`,
				`VirtualDestination bookinfo/bad-subsets: spec.subsets[1].name: duplicate subset "v1"`,
				`VirtualDestination bookinfo/bad-subsets: spec.subsets[1].labels: at least one label is required`,
			},
		},
		{
			name:     "invalid policies and workspaces are reported and left out, valid ones kept",
			clusters: []ClusterInfo{cluster1},
			config: &ConfigObjects{
				ExternalServices: []*v1alpha1.ExternalService{
					{ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "empty"}},
					validExternalService,
				},
				FailoverPolicies: []*v1alpha1.FailoverPolicy{
					{ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "empty"}},
					validFailoverPolicy,
				},
				OutlierDetectionPolicies: []*v1alpha1.OutlierDetectionPolicy{
					{ObjectMeta: metav1.ObjectMeta{Namespace: "bookinfo", Name: "bad"}, Spec: v1alpha1.OutlierDetectionPolicySpec{
						ApplyToDestinations: validOutlierPolicy.Spec.ApplyToDestinations,
						Config:              v1alpha1.OutlierDetectionConfig{MaxEjectionPercent: ptr.To(int32(101))},
					}},
					validOutlierPolicy,
				},
				Workspaces: []*v1alpha1.Workspace{{ObjectMeta: metav1.ObjectMeta{Name: "empty"}}},
			},
			want: model.World{
				Clusters:                 world1().Clusters,
				ExternalServices:         []*model.ExternalService{validExternalService},
				FailoverPolicies:         []*model.FailoverPolicy{validFailoverPolicy},
				OutlierDetectionPolicies: []*model.OutlierDetectionPolicy{validOutlierPolicy},
			},
			wantErrs: []string{
				`ExternalService bookinfo/empty: spec.hosts: at least one host is required`,
				`ExternalService bookinfo/empty: spec.ports: at least one port is required`,
				`ExternalService bookinfo/empty: spec.endpoints: at least one endpoint is required`,
				`FailoverPolicy bookinfo/empty: spec.applyToDestinations: at least one selector is required`,
				`FailoverPolicy bookinfo/empty: spec.config: set localityMappings or priorityLabels`,
				`OutlierDetectionPolicy bookinfo/bad: spec.config.maxEjectionPercent: must be 0-100, got 101`,
				`Workspace empty: spec.workloadClusters: at least one cluster is required`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := BuildWorld(tc.clusters, tc.workloads, tc.config)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("world (-want +got):\n%s", diff)
			}
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			if len(msgs) != len(tc.wantErrs) {
				t.Fatalf("errors:\n%s\nwant %d:\n%s", strings.Join(msgs, "\n"), len(tc.wantErrs), strings.Join(tc.wantErrs, "\n"))
			}
			for i, want := range tc.wantErrs {
				if !strings.Contains(msgs[i], want) {
					t.Errorf("error %d: %q, want it to contain %q", i, msgs[i], want)
				}
			}
		})
	}
}

// The world must not share memory with the objects (informer caches are
// read-only and shared).
func TestBuildWorldCopies(t *testing.T) {
	p := pod("bookinfo", "reviews-v1", map[string]string{"version": "v1"})
	s := service("bookinfo", "reviews", map[string]string{"app": "reviews"}, servicePort("http", 9080, intstr.IntOrString{}))
	gw := &gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Name: "http", Labels: map[string]string{"a": "b"}}}
	w, errs := BuildWorld([]ClusterInfo{cluster1}, map[string]*WorkloadObjects{"cluster-1": {
		Services:       []*corev1.Service{s},
		EndpointSlices: []*discoveryv1.EndpointSlice{slice("bookinfo", "reviews-a", "reviews", httpPort, endpoint("10.0.0.1", ofPod("", "reviews-v1")), endpoint("10.0.0.2", ofPod("", "reviews-v1")))},
		Pods:           []*corev1.Pod{p},
	}}, &ConfigObjects{Gateways: []*gwv1.Gateway{gw}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	w.Services[0].Labels["app"] = "changed"
	w.Services[0].Endpoints[0].Labels["version"] = "changed"
	w.Services[0].Endpoints[0].Ports[0].Port = 1
	w.Gateways[0].Labels["a"] = "changed"
	if s.Labels["app"] != "reviews" || p.Labels["version"] != "v1" || gw.Labels["a"] != "b" {
		t.Error("the world shares maps with the input objects")
	}
	if ep := w.Services[0].Endpoints[1]; ep.Labels["version"] != "v1" || ep.Ports[0].Port != 9080 {
		t.Errorf("endpoints share memory with each other: %+v", ep)
	}
}
