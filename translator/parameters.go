package translator

import (
	"errors"
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// checkClassParameters checks gc's spec.parametersRef: none, or a
// GatewayParameters (checkParametersRef) that, when Causeway provisions
// the proxies, exists. A message is returned when it is invalid: the class
// is then Accepted False with reason InvalidParameters, and its Gateways
// are not provisioned. Without provisioning (world files, --provision=false)
// the parameters are never read, so only the reference's shape counts.
func checkClassParameters(w *model.Snapshot, gc *model.GatewayClass) (message string, ok bool) {
	if !w.Provisioning() {
		return checkParametersRef(gc)
	}
	_, err := classParameters(w, gc)
	if err != nil {
		return err.Error(), false
	}
	return "", true
}

// classParameters returns the GatewayParameters gc names, nil without
// parametersRef, or an error naming the field.
func classParameters(w *model.Snapshot, gc *model.GatewayClass) (*model.GatewayParameters, error) {
	ref := gc.Spec.ParametersRef
	if ref == nil {
		return nil, nil
	}
	if msg, ok := checkParametersRef(gc); !ok {
		return nil, errors.New(msg)
	}
	gp := w.GatewayParameters(string(*ref.Namespace), ref.Name)
	if gp == nil {
		return nil, fmt.Errorf("spec.parametersRef: GatewayParameters %s/%s not found", *ref.Namespace, ref.Name)
	}
	return gp, nil
}

// ProvisionParameters returns the settings of gw's provisioned proxies: the
// spec of the GatewayParameters its class names, or nil for the defaults
// (v1alpha1.GatewayParametersSpec's OrDefault accessors). An error (naming
// the class and field) means the class's parametersRef is invalid: nothing
// is provisioned for gw. Whether gw is Causeway's at all is Statuses'
// business (ownership); a class not in the world has no parameters.
func ProvisionParameters(w *model.Snapshot, gw *model.Gateway) (*v1alpha1.GatewayParametersSpec, error) {
	gc := w.GatewayClass(string(gw.Spec.GatewayClassName))
	if gc == nil {
		return nil, nil
	}
	gp, err := classParameters(w, gc)
	if err != nil {
		return nil, fmt.Errorf("GatewayClass %s: %w", gc.Name, err)
	}
	if gp == nil {
		return nil, nil
	}
	return &gp.Spec, nil
}

// gatewayAddresses are the addresses a Gateway reports: its spec.addresses
// when it has any with a value, else the addresses of its provisioned
// Services (model.Snapshot.GatewayAddresses).
func gatewayAddresses(w *model.Snapshot, gw *model.Gateway) []gwv1.GatewayStatusAddress {
	var out []gwv1.GatewayStatusAddress
	for _, a := range gw.Spec.Addresses {
		if a.Value == "" {
			continue
		}
		t := gwv1.IPAddressType
		if a.Type != nil {
			t = *a.Type
		}
		out = append(out, gwv1.GatewayStatusAddress{Type: &t, Value: a.Value})
	}
	if len(out) > 0 {
		return out
	}
	return w.GatewayAddresses(gw.Namespace, gw.Name)
}

// addressNotAssigned is the Programmed condition's message for a Gateway
// that would be programmed but whose provisioned Service has no address
// yet (empty when it has one, or when proxies are not provisioned).
func addressNotAssigned(w *model.Snapshot, addrs []gwv1.GatewayStatusAddress) string {
	if !w.Provisioning() || len(addrs) > 0 {
		return ""
	}
	return "no address yet: the provisioned Service (labelled " + model.GatewayNameLabel + ") has no load-balancer ingress (type LoadBalancer) or no cluster IP (other types) in any workload cluster"
}

// GatewayClusters returns the known clusters whose gateway proxies serve
// gw (annotation model.ClusterAnnotation, else every cluster), in cluster
// order: where its proxies are provisioned.
func GatewayClusters(w *model.Snapshot, gw *model.Gateway) []string {
	var out []string
	for _, c := range w.Clusters() {
		if servedBy(gw, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}
