package lbstandin

import (
	"context"
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// readyEndpoints maps each port name of svc's EndpointSlices to the ready
// endpoint addresses and ports, sorted so round-robin order is stable.
func (s *Standin) readyEndpoints(svc *corev1.Service) (map[string][]netip.AddrPort, error) {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: svc.Name})
	slices, err := s.slices.EndpointSlices(svc.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	out := map[string][]netip.AddrPort{}
	seen := map[string]map[netip.AddrPort]bool{}
	for _, slice := range slices {
		if slice.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		for _, ep := range slice.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready || len(ep.Addresses) == 0 {
				continue
			}
			ip, err := netip.ParseAddr(ep.Addresses[0])
			if err != nil {
				continue
			}
			for _, p := range slice.Ports {
				if p.Port == nil || (p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP) {
					continue
				}
				name := ""
				if p.Name != nil {
					name = *p.Name
				}
				ap := netip.AddrPortFrom(ip, uint16(*p.Port))
				if seen[name] == nil {
					seen[name] = map[netip.AddrPort]bool{}
				}
				if !seen[name][ap] {
					seen[name][ap] = true
					out[name] = append(out[name], ap)
				}
			}
		}
	}
	for _, list := range out {
		sort.Slice(list, func(i, j int) bool { return list[i].Compare(list[j]) < 0 })
	}
	return out, nil
}

// writeStatus sets status.loadBalancer.ingress to [{ip: addr}] unless it
// is that already.
func (s *Standin) writeStatus(svc *corev1.Service, addr netip.Addr) error {
	ing := svc.Status.LoadBalancer.Ingress
	if len(ing) == 1 && ing[0].IP == addr.String() && ing[0].Hostname == "" && len(ing[0].Ports) == 0 {
		return nil
	}
	up := svc.DeepCopy()
	up.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: addr.String()}}
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	_, err := s.client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, up, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status.loadBalancer: %w", err)
	}
	return nil
}
