package kube

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// gvrGatewayParameters is what GatewayClass parametersRef names (namespaced).
var gvrGatewayParameters = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "gatewayparameters"}

// ClusterClient returns the client of the named workload cluster while it
// is active, else nil. Safe from any goroutine (the provisioner uses it).
func (c *Controller) ClusterClient(cluster string) kubernetes.Interface {
	return c.clusterClient(cluster)
}

// discoverGatewayServiceAddresses returns the addresses of the Services
// Causeway provisioned for Gateways (labelled model.GatewayNameLabel and
// model.GatewayNamespaceLabel): each load-balancer ingress IP or hostname,
// else the cluster IP while no load balancer reports one. services are
// sorted, so the result is too.
func discoverGatewayServiceAddresses(cluster string, services []*corev1.Service) ([]model.GatewayServiceAddress, []error) {
	var (
		out  []model.GatewayServiceAddress
		errs []error
	)
	for _, svc := range services {
		name, ns := svc.Labels[model.GatewayNameLabel], svc.Labels[model.GatewayNamespaceLabel]
		if name == "" || ns == "" {
			continue
		}
		gw := ns + "/" + name
		object := fmt.Sprintf("Service %s/%s in cluster %s", svc.Namespace, svc.Name, cluster)
		n := len(out)
		for i, ing := range svc.Status.LoadBalancer.Ingress {
			switch {
			case ing.IP != "":
				if _, err := netip.ParseAddr(ing.IP); err != nil {
					errs = append(errs, fmt.Errorf("%s: status.loadBalancer.ingress[%d].ip: %q is not an IP address", object, i, ing.IP))
					continue
				}
				out = append(out, model.GatewayServiceAddress{Gateway: gw, Type: gwv1.IPAddressType, Value: ing.IP})
			case ing.Hostname != "":
				out = append(out, model.GatewayServiceAddress{Gateway: gw, Type: gwv1.HostnameAddressType, Value: ing.Hostname})
			}
		}
		// A LoadBalancer Service's address is its ingress, once the cloud
		// (or a stand-in) assigns one: its cluster IP is not what clients
		// outside the cluster reach, and reporting it would make the Gateway
		// Programmed with an address nobody can use (AddressNotAssigned instead).
		if len(out) > n || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			continue
		}
		for _, ip := range svc.Spec.ClusterIPs {
			if _, err := netip.ParseAddr(ip); err == nil {
				out = append(out, model.GatewayServiceAddress{Gateway: gw, Type: gwv1.IPAddressType, Value: ip})
			}
		}
		if len(svc.Spec.ClusterIPs) == 0 {
			if _, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
				out = append(out, model.GatewayServiceAddress{Gateway: gw, Type: gwv1.IPAddressType, Value: svc.Spec.ClusterIP})
			}
		}
	}
	return out, errs
}
