package kube

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
		out, vdErrs := apiconv.VirtualDestination(vd)
		if check(&errs, "VirtualDestination", vd, vdErrs) {
			w.VirtualDestinations = append(w.VirtualDestinations, out)
		}
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
	for _, gc := range config.GatewayClasses {
		if gc != nil {
			w.GatewayClasses = append(w.GatewayClasses, gc.DeepCopy())
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
	for _, gp := range config.GatewayParameters {
		if gp != nil {
			w.GatewayParameters = append(w.GatewayParameters, gp.DeepCopy())
		}
	}
	convertNamespacesAndSecrets(config, w)
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
