package kube

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/discovery/apiconv"
	"github.com/causeway-dev/causeway/model"
)

// convertConfig adds the management cluster's objects to w. Invalid
// objects are reported and left out; the policy kinds are the API types in
// the model too, so they are checked and copied.
func convertConfig(config *ConfigObjects, w *model.World) []error {
	var errs []error
	for _, vd := range config.VirtualDestinations {
		if vd == nil {
			continue
		}
		out, vdErrs := ConvertVirtualDestination(vd)
		if len(vdErrs) > 0 {
			errs = append(errs, vdErrs...)
			continue
		}
		w.VirtualDestinations = append(w.VirtualDestinations, out)
	}
	for _, es := range config.ExternalServices {
		if es != nil && check(&errs, "ExternalService", es, apiconv.ExternalService(es)) {
			w.ExternalServices = append(w.ExternalServices, es.DeepCopy())
		}
	}
	for _, fp := range config.FailoverPolicies {
		if fp != nil && check(&errs, "FailoverPolicy", fp, apiconv.FailoverPolicy(fp)) {
			w.FailoverPolicies = append(w.FailoverPolicies, fp.DeepCopy())
		}
	}
	for _, odp := range config.OutlierDetectionPolicies {
		if odp != nil && check(&errs, "OutlierDetectionPolicy", odp, apiconv.OutlierDetectionPolicy(odp)) {
			w.OutlierDetectionPolicies = append(w.OutlierDetectionPolicies, odp.DeepCopy())
		}
	}
	for _, ws := range config.Workspaces {
		if ws == nil {
			continue
		}
		out, wsErrs := apiconv.Workspace(ws)
		if check(&errs, "Workspace", ws, wsErrs) {
			w.Workspaces = append(w.Workspaces, out)
		}
	}
	for _, g := range config.Gateways {
		if g != nil {
			w.Gateways = append(w.Gateways, g.DeepCopy())
		}
	}
	for _, r := range config.HTTPRoutes {
		if r != nil {
			w.HTTPRoutes = append(w.HTTPRoutes, r.DeepCopy())
		}
	}
	for _, g := range config.ReferenceGrants {
		if g != nil {
			w.ReferenceGrants = append(w.ReferenceGrants, g.DeepCopy())
		}
	}
	return errs
}

// check appends one error per field error, naming the object, and reports
// whether there were none.
func check(errs *[]error, kind string, obj metav1.Object, fieldErrs []apiconv.FieldError) bool {
	id := obj.GetName()
	if obj.GetNamespace() != "" {
		id = obj.GetNamespace() + "/" + id
	}
	for _, e := range fieldErrs {
		*errs = append(*errs, fmt.Errorf("%s %s: %w", kind, id, e))
	}
	return len(fieldErrs) == 0
}

// ConvertVirtualDestination converts vd to the model, checking what the
// CRD's schema and CEL rules check at admission: objects can get past them
// (manifests read offline, a CRD older than this binary), and a bad one
// must be left out and reported rather than reach the translator. Each
// error names the object and field; on error the model value is unusable.
func ConvertVirtualDestination(vd *v1alpha1.VirtualDestination) (model.VirtualDestination, []error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("VirtualDestination %s/%s: %s: %s", vd.Namespace, vd.Name, field, fmt.Sprintf(format, args...)))
	}
	spec := &vd.Spec
	out := model.VirtualDestination{
		Namespace:           vd.Namespace,
		Name:                vd.Name,
		Hosts:               append([]string(nil), spec.Hosts...),
		TrafficDistribution: spec.TrafficDistribution,
		Labels:              copyLabels(vd.Labels),
		// Older wins host conflicts; objects of one API server have
		// distinct-enough timestamps, ties fall back to namespace/name.
		Age: model.Age{CreationTimestamp: vd.CreationTimestamp.Time},
	}
	if len(spec.Hosts) == 0 {
		bad("spec.hosts", "at least one host is required")
	}
	hosts := map[string]bool{}
	for i, h := range spec.Hosts {
		field := fmt.Sprintf("spec.hosts[%d]", i)
		if msgs := validation.IsDNS1123Subdomain(h); len(msgs) > 0 {
			bad(field, "%q is not a valid hostname: %s", h, strings.Join(msgs, "; "))
		}
		if hosts[h] {
			bad(field, "duplicate host %q", h)
		}
		hosts[h] = true
	}
	if len(spec.Ports) == 0 {
		bad("spec.ports", "at least one port is required")
	}
	numbers := map[int32]bool{}
	for i, p := range spec.Ports {
		field := fmt.Sprintf("spec.ports[%d]", i)
		if p.Number < 1 || p.Number > 65535 {
			bad(field+".number", "must be 1-65535, got %d", p.Number)
		}
		if numbers[p.Number] {
			bad(field+".number", "duplicate port %d", p.Number)
		}
		numbers[p.Number] = true
		switch p.Protocol {
		case "", "HTTP", "HTTP2", "GRPC", "H2C":
		default:
			bad(field+".protocol", "%q is not supported (use HTTP, HTTP2, GRPC or H2C)", p.Protocol)
		}
		port := model.VirtualDestinationPort{Number: uint32(p.Number), Protocol: p.Protocol}
		if tp := p.TargetPort; tp != nil {
			switch {
			case (tp.Number != 0) == (tp.Name != ""):
				bad(field+".targetPort", "set exactly one of number or name")
			case tp.Number != 0 && (tp.Number < 1 || tp.Number > 65535):
				bad(field+".targetPort.number", "must be 1-65535, got %d", tp.Number)
			case tp.Name != "":
				if msgs := validation.IsDNS1123Label(tp.Name); len(msgs) > 0 {
					bad(field+".targetPort.name", "%q is not a valid port name: %s", tp.Name, strings.Join(msgs, "; "))
				}
			}
			port.TargetPort = &model.TargetPort{Number: uint32(max(tp.Number, 0)), Name: tp.Name}
		}
		out.Ports = append(out.Ports, port)
	}
	if len(spec.Services) == 0 && len(spec.ExternalServices) == 0 {
		bad("spec.services", "at least one of spec.services or spec.externalServices must select a backend")
	}
	for _, sel := range spec.Services {
		out.Services = append(out.Services, model.ServiceSelector{
			Labels:    copyLabels(sel.Labels),
			Name:      sel.Name,
			Namespace: sel.Namespace,
			Cluster:   sel.Cluster,
		})
	}
	for _, sel := range spec.ExternalServices {
		out.ExternalServices = append(out.ExternalServices, model.ServiceSelector{
			Labels:    copyLabels(sel.Labels),
			Name:      sel.Name,
			Namespace: sel.Namespace,
		})
	}
	subsets, subsetErrs := apiconv.Subsets(spec.Subsets)
	for _, e := range subsetErrs {
		bad(e.Field, "%s", e.Message)
	}
	out.Subsets = subsets
	switch spec.TrafficDistribution {
	case model.TrafficDistributionDefault, model.TrafficDistributionPreferClose:
	default:
		bad("spec.trafficDistribution", "%q is not supported (use %q or leave it unset)", spec.TrafficDistribution, model.TrafficDistributionPreferClose)
	}
	return out, errs
}
