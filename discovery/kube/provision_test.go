package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

func TestDiscoverGatewayServiceAddresses(t *testing.T) {
	svc := func(name string, labelled bool, clusterIP string, ingress ...corev1.LoadBalancerIngress) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "causeway-system", Name: name}}
		if labelled {
			s.Labels = map[string]string{model.GatewayNameLabel: name, model.GatewayNamespaceLabel: "web"}
		}
		s.Spec.ClusterIP = clusterIP
		if clusterIP != "" {
			s.Spec.ClusterIPs = []string{clusterIP}
		}
		s.Status.LoadBalancer.Ingress = ingress
		return s
	}
	ip, host := gwv1.IPAddressType, gwv1.HostnameAddressType
	lbPending := svc("f-lb-pending", true, "10.96.0.6")
	lbPending.Spec.Type = corev1.ServiceTypeLoadBalancer
	lbAssigned := svc("g-lb-assigned", true, "10.96.0.7", corev1.LoadBalancerIngress{IP: "203.0.113.7"})
	lbAssigned.Spec.Type = corev1.ServiceTypeLoadBalancer
	got, errs := discoverGatewayServiceAddresses("c1", []*corev1.Service{
		svc("a-cluster-ip", true, "10.96.0.1"),
		svc("b-lb", true, "10.96.0.2", corev1.LoadBalancerIngress{IP: "203.0.113.1"}, corev1.LoadBalancerIngress{Hostname: "lb.example.com"}),
		svc("c-headless", true, "None"),
		svc("d-not-provisioned", false, "10.96.0.4"),
		svc("e-bad-ip", true, "10.96.0.5", corev1.LoadBalancerIngress{IP: "not-an-ip"}),
		// Type LoadBalancer: the ingress or nothing, never the cluster IP.
		lbPending,
		lbAssigned,
	})
	want := []model.GatewayServiceAddress{
		{Gateway: "web/a-cluster-ip", Type: ip, Value: "10.96.0.1"},
		{Gateway: "web/b-lb", Type: ip, Value: "203.0.113.1"},
		{Gateway: "web/b-lb", Type: host, Value: "lb.example.com"},
		// An ingress that is no IP is reported; the cluster IP stands in.
		{Gateway: "web/e-bad-ip", Type: ip, Value: "10.96.0.5"},
		{Gateway: "web/g-lb-assigned", Type: ip, Value: "203.0.113.7"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("addresses (-want +got):\n%s", d)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Service causeway-system/e-bad-ip in cluster c1: status.loadBalancer.ingress[0].ip") {
		t.Errorf("errors %v, want one naming e-bad-ip's ingress", errs)
	}
}
