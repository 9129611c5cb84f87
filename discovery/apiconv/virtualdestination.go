package apiconv

import (
	"fmt"
	"maps"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// VirtualDestination checks vd as its CRD does and converts it. Age gets
// the object's metadata.creationTimestamp; a world file sets its own. On
// error the model value is unusable.
func VirtualDestination(vd *v1alpha1.VirtualDestination) (model.VirtualDestination, []FieldError) {
	var e errs
	spec := &vd.Spec
	out := model.VirtualDestination{
		Namespace:           vd.Namespace,
		Name:                vd.Name,
		Hosts:               append([]string(nil), spec.Hosts...),
		TrafficDistribution: spec.TrafficDistribution,
		Labels:              cloneLabels(vd.Labels),
		// Older wins host conflicts; objects of one API server have
		// distinct-enough timestamps, ties fall back to namespace/name.
		Age: model.Age{CreationTimestamp: vd.CreationTimestamp.Time},
	}
	e.hosts(spec.Hosts)
	if len(spec.Ports) == 0 {
		e.add("spec.ports", "at least one port is required")
	}
	numbers := map[int32]bool{}
	for i, p := range spec.Ports {
		field := fmt.Sprintf("spec.ports[%d]", i)
		e.uniquePort(field+".number", p.Number, numbers)
		e.protocol(field+".protocol", p.Protocol)
		port := model.VirtualDestinationPort{Number: uint32(p.Number), Protocol: p.Protocol}
		if tp := p.TargetPort; tp != nil {
			switch {
			case (tp.Number != 0) == (tp.Name != ""):
				e.add(field+".targetPort", "set exactly one of number or name")
			case tp.Number != 0:
				e.port(field+".targetPort.number", tp.Number)
			default:
				e.dnsLabel(field+".targetPort.name", "port name", tp.Name)
			}
			port.TargetPort = &model.TargetPort{Number: uint32(max(tp.Number, 0)), Name: tp.Name}
		}
		out.Ports = append(out.Ports, port)
	}
	if len(spec.Services) == 0 && len(spec.ExternalServices) == 0 {
		e.add("spec.services", "at least one of spec.services or spec.externalServices must select a backend")
	}
	for i, sel := range spec.Services {
		// Empty fields match everything: an empty selector would put
		// every Service of every cluster behind these hosts.
		if len(sel.Labels) == 0 && sel.Name == "" && sel.Namespace == "" && sel.Cluster == "" {
			e.add(fmt.Sprintf("spec.services[%d]", i), "selects every Service in the mesh; give labels, name, namespace or cluster")
		}
		out.Services = append(out.Services, model.ServiceSelector{Labels: cloneLabels(sel.Labels), Name: sel.Name, Namespace: sel.Namespace, Cluster: sel.Cluster})
	}
	for _, sel := range spec.ExternalServices {
		out.ExternalServices = append(out.ExternalServices, model.ServiceSelector{Labels: cloneLabels(sel.Labels), Name: sel.Name, Namespace: sel.Namespace})
	}
	subsets, subsetErrs := Subsets(spec.Subsets)
	e = append(e, subsetErrs...)
	out.Subsets = subsets
	switch spec.TrafficDistribution {
	case model.TrafficDistributionDefault, model.TrafficDistributionPreferClose:
	default:
		e.add("spec.trafficDistribution", "%q is not supported (use %q or leave it unset)", spec.TrafficDistribution, model.TrafficDistributionPreferClose)
	}
	return out, e
}

// Subsets checks a VirtualDestination's spec.subsets as its CRD does and
// converts them.
func Subsets(subsets []v1alpha1.Subset) ([]model.Subset, []FieldError) {
	var e errs
	var out []model.Subset
	names := map[string]bool{}
	for i, s := range subsets {
		field := fmt.Sprintf("spec.subsets[%d]", i)
		e.dnsLabel(field+".name", "subset name", s.Name)
		if names[s.Name] {
			e.add(field+".name", "duplicate subset %q", s.Name)
		}
		names[s.Name] = true
		if len(s.Labels) == 0 {
			e.add(field+".labels", "at least one label is required")
		}
		out = append(out, model.Subset{Name: s.Name, Labels: maps.Clone(s.Labels)})
	}
	return out, e
}

// cloneLabels copies m so that the model shares no map with an informer
// cache or a decoded document; empty becomes nil.
func cloneLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
