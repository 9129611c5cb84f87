package kube

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/causeway-dev/causeway/model"
)

// convertCluster converts one workload cluster's objects.
func convertCluster(info ClusterInfo, objs *WorkloadObjects) (model.Cluster, []model.Service, []error) {
	services := sortedServices(objs.Services)
	c, errs := clusterOf(info, services)
	idx := newWorkloadIndex(objs)
	var out []model.Service
	for _, svc := range services {
		if hasEndpoints(svc) {
			out = append(out, idx.service(info, svc))
		}
	}
	return c, out, errs
}

// clusterOf is the model cluster of info; services (sorted) are where its
// east-west gateways are discovered unless info names them.
func clusterOf(info ClusterInfo, services []*corev1.Service) (model.Cluster, []error) {
	c := model.Cluster{
		Name:     info.Name,
		Network:  info.Network,
		Locality: info.Locality,
	}
	if c.Network == "" {
		c.Network = info.Name // each cluster its own network unless told otherwise
	}
	var errs []error
	if len(info.EastWestGateways) > 0 {
		c.EastWestGateways = append([]model.GatewayAddress(nil), info.EastWestGateways...)
	} else {
		c.EastWestGateways, errs = discoverEastWestGateways(info.Name, services)
	}
	var gwErrs []error
	c.GatewayServiceAddresses, gwErrs = discoverGatewayServiceAddresses(info.Name, services)
	return c, append(errs, gwErrs...)
}

// hasEndpoints is false for ExternalName Services: DNS aliases with no
// endpoints of their own, left out of the model.
func hasEndpoints(svc *corev1.Service) bool { return svc.Spec.Type != corev1.ServiceTypeExternalName }

// service converts svc with its endpoints.
func (idx *workloadIndex) service(info ClusterInfo, svc *corev1.Service) model.Service {
	return model.Service{
		Cluster:   info.Name,
		Namespace: svc.Namespace,
		Name:      svc.Name,
		Labels:    copyLabels(svc.Labels),
		Ports:     convertServicePorts(svc.Spec.Ports),
		Endpoints: idx.endpoints(info, svc),
	}
}

func sortedServices(in []*corev1.Service) []*corev1.Service {
	out := make([]*corev1.Service, 0, len(in))
	for _, s := range in {
		if s != nil {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name
	})
	return out
}

// convertServicePorts keeps TCP ports (the only ones Envoy gateways proxy
// here). A numeric targetPort becomes TargetPort (unset means the port
// itself, as the API server defaults it); a named one becomes 0: the
// number is per endpoint, on the EndpointSlice port named like the Service
// port, where the translator looks first.
func convertServicePorts(ports []corev1.ServicePort) []model.ServicePort {
	var out []model.ServicePort
	for _, p := range ports {
		if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
			continue
		}
		sp := model.ServicePort{Name: p.Name, Port: uint32(p.Port), TargetPort: uint32(p.Port)}
		switch tp := p.TargetPort; {
		case tp.Type == intstr.Int && tp.IntVal != 0:
			sp.TargetPort = uint32(tp.IntVal)
		case tp.Type == intstr.String && tp.StrVal != "":
			if n, err := strconv.ParseUint(tp.StrVal, 10, 16); err == nil {
				sp.TargetPort = uint32(n)
			} else {
				sp.TargetPort = 0
			}
		}
		if p.AppProtocol != nil {
			// As written: the translator reads kubernetes.io/ws, kubernetes.io/h2c, grpc...
			sp.AppProtocol = *p.AppProtocol
		}
		out = append(out, sp)
	}
	return out
}

// discoverEastWestGateways returns the load-balancer ingress IPs of the
// Services labelled EastWestGatewayLabel=true, each with the Service's
// "tls" port (else its first port), in Service name order without
// duplicates.
func discoverEastWestGateways(cluster string, services []*corev1.Service) ([]model.GatewayAddress, []error) {
	var (
		out  []model.GatewayAddress
		errs []error
		seen = map[model.GatewayAddress]bool{}
	)
	for _, svc := range services {
		if svc.Labels[EastWestGatewayLabel] != "true" {
			continue
		}
		object := fmt.Sprintf("Service %s/%s in cluster %s", svc.Namespace, svc.Name, cluster)
		if len(svc.Spec.Ports) == 0 {
			errs = append(errs, fmt.Errorf("%s: spec.ports: an east-west gateway Service needs a port (named %q or the first)", object, EastWestGatewayPortName))
			continue
		}
		port := svc.Spec.Ports[0].Port
		for _, p := range svc.Spec.Ports {
			if p.Name == EastWestGatewayPortName {
				port = p.Port
				break
			}
		}
		for i, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP == "" {
				if ing.Hostname != "" {
					errs = append(errs, fmt.Errorf("%s: status.loadBalancer.ingress[%d]: hostname %q is not supported, east-west gateways need an IP", object, i, ing.Hostname))
				}
				continue
			}
			if _, err := netip.ParseAddr(ing.IP); err != nil {
				errs = append(errs, fmt.Errorf("%s: status.loadBalancer.ingress[%d].ip: %q is not an IP address", object, i, ing.IP))
				continue
			}
			g := model.GatewayAddress{Address: ing.IP, Port: uint32(port)}
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	return out, errs
}

// workloadIndex looks up what endpoints refer to.
type workloadIndex struct {
	slices map[string][]*discoveryv1.EndpointSlice // by namespace/service name, sorted by slice name
	pods   map[string]*corev1.Pod                  // by namespace/name
	nodes  map[string]*corev1.Node                 // by name
}

func newWorkloadIndex(objs *WorkloadObjects) *workloadIndex {
	idx := &workloadIndex{
		slices: map[string][]*discoveryv1.EndpointSlice{},
		pods:   map[string]*corev1.Pod{},
		nodes:  map[string]*corev1.Node{},
	}
	for _, s := range objs.EndpointSlices {
		if s == nil {
			continue
		}
		svc := s.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue // not managed for a Service (e.g. a mirror without the label)
		}
		key := s.Namespace + "/" + svc
		idx.slices[key] = append(idx.slices[key], s)
	}
	for _, list := range idx.slices {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	for _, p := range objs.Pods {
		if p != nil {
			idx.pods[p.Namespace+"/"+p.Name] = p
		}
	}
	for _, n := range objs.Nodes {
		if n != nil {
			idx.nodes[n.Name] = n
		}
	}
	return idx
}

// endpoints converts the EndpointSlices of svc: one endpoint per address,
// sorted by address. An address in several slices (an endpoint moving
// between slices) is kept once, preferring a ready entry, else the one in
// the first slice by name.
func (idx *workloadIndex) endpoints(info ClusterInfo, svc *corev1.Service) []model.Endpoint {
	var out []model.Endpoint
	at := map[string]int{}
	for _, slice := range idx.slices[svc.Namespace+"/"+svc.Name] {
		if slice.AddressType != discoveryv1.AddressTypeIPv4 && slice.AddressType != discoveryv1.AddressTypeIPv6 {
			continue // FQDN slices name hosts, not addresses Envoy can use as static endpoints
		}
		ports := convertSlicePorts(slice.Ports)
		for _, e := range slice.Endpoints {
			ep := model.Endpoint{
				Ports:    ports,
				Ready:    endpointReady(e.Conditions),
				Locality: idx.locality(info.Locality, e),
				Labels:   idx.podLabels(slice.Namespace, e.TargetRef),
				Stale:    info.Stale,
			}
			for _, addr := range e.Addresses {
				ep.Address = addr
				if i, dup := at[addr]; dup {
					if ep.Ready && !out[i].Ready {
						out[i] = copyEndpoint(ep)
					}
					continue
				}
				at[addr] = len(out)
				out = append(out, copyEndpoint(ep))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// copyEndpoint gives each endpoint its own slices and maps, so that the
// model never aliases across endpoints of one EndpointSlice entry.
func copyEndpoint(ep model.Endpoint) model.Endpoint {
	ep.Ports = append([]model.EndpointPort(nil), ep.Ports...)
	ep.Labels = copyLabels(ep.Labels)
	return ep
}

// endpointReady follows EndpointSlice semantics: ready unset means ready.
// An endpoint that is terminating or explicitly not serving is not ready
// even if a producer left ready set, so traffic moves before it goes.
func endpointReady(c discoveryv1.EndpointConditions) bool {
	if c.Ready != nil && !*c.Ready {
		return false
	}
	if c.Serving != nil && !*c.Serving {
		return false
	}
	if c.Terminating != nil && *c.Terminating {
		return false
	}
	return true
}

func convertSlicePorts(ports []discoveryv1.EndpointPort) []model.EndpointPort {
	var out []model.EndpointPort
	for _, p := range ports {
		if p.Port == nil {
			continue // "all ports": nothing to add over the Service's own
		}
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		name := ""
		if p.Name != nil {
			name = *p.Name
		}
		out = append(out, model.EndpointPort{Name: name, Port: uint32(*p.Port)})
	}
	return out
}

// locality is where endpoint e runs: its Node's topology labels when the
// Node has any, else the EndpointSlice's zone within the cluster's default
// region, else the cluster's default.
func (idx *workloadIndex) locality(def model.Locality, e discoveryv1.Endpoint) model.Locality {
	if e.NodeName != nil {
		if n := idx.nodes[*e.NodeName]; n != nil {
			if l := NodeLocality(n.Labels); l != (model.Locality{}) {
				return l
			}
		}
	}
	if e.Zone != nil && *e.Zone != "" {
		return model.Locality{Region: def.Region, Zone: *e.Zone}
	}
	return def
}

// NodeLocality is the locality a Node's labels name: region and zone from
// the Kubernetes topology labels, subzone from SubzoneLabel. Endpoints on
// the Node and a client proxy running there (bootstrap --node-name) get
// the same.
func NodeLocality(labels map[string]string) model.Locality {
	return model.Locality{
		Region:  labels[corev1.LabelTopologyRegion],
		Zone:    labels[corev1.LabelTopologyZone],
		Subzone: labels[SubzoneLabel],
	}
}

// podLabels are the labels of the Pod behind an endpoint, used to match
// subsets; nil when the endpoint is not a known Pod.
func (idx *workloadIndex) podLabels(namespace string, ref *corev1.ObjectReference) map[string]string {
	if ref == nil || ref.Kind != "Pod" {
		return nil
	}
	if ref.Namespace != "" {
		namespace = ref.Namespace
	}
	if p := idx.pods[namespace+"/"+ref.Name]; p != nil {
		return p.Labels
	}
	return nil
}

func copyLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
