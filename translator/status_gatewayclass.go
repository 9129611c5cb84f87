package translator

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// GatewayClassStatus is the status of one of Causeway's GatewayClasses:
// its Accepted condition and the features Causeway supports.
type GatewayClassStatus struct {
	Name string
	ObjectVersion
	Conditions        []metav1.Condition
	SupportedFeatures []gwv1.SupportedFeature
}

// GatewayParametersKind is the kind of Causeway's GatewayClass
// parameters (group model.APIGroup, namespaced).
const GatewayParametersKind = "GatewayParameters"

// gatewayClassStatuses reports on the GatewayClasses Causeway owns, by
// name; other controllers' classes are theirs to report on.
func gatewayClassStatuses(w *model.Snapshot) []GatewayClassStatus {
	var out []GatewayClassStatus
	for _, gc := range w.GatewayClasses() {
		if !ownsClass(w, gc) {
			continue
		}
		st := GatewayClassStatus{Name: gc.Name, ObjectVersion: versionOf(gc), SupportedFeatures: SupportedFeatures()}
		if msg, ok := checkClassParameters(w, gc); !ok {
			st.Conditions = []metav1.Condition{condition(string(gwv1.GatewayClassConditionStatusAccepted), false, gwv1.GatewayClassReasonInvalidParameters, msg)}
		} else {
			st.Conditions = []metav1.Condition{condition(string(gwv1.GatewayClassConditionStatusAccepted), true, gwv1.GatewayClassReasonAccepted,
				"controllerName "+string(gc.Spec.ControllerName)+" is Causeway's")}
		}
		out = append(out, st)
	}
	return out
}

// checkParametersRef checks the shape of gc's spec.parametersRef: none, or
// a namespaced GatewayParameters of Causeway's group. It returns a message
// naming the field when the reference is invalid. Whether the referenced
// object exists is checkClassParameters' (parameters.go).
func checkParametersRef(gc *model.GatewayClass) (string, bool) {
	ref := gc.Spec.ParametersRef
	if ref == nil {
		return "", true
	}
	switch {
	case string(ref.Group) != model.APIGroup || string(ref.Kind) != GatewayParametersKind:
		return fmt.Sprintf("spec.parametersRef: %s/%s is not supported (only %s/%s)", ref.Group, ref.Kind, model.APIGroup, GatewayParametersKind), false
	case ref.Namespace == nil || *ref.Namespace == "":
		return fmt.Sprintf("spec.parametersRef.namespace: is required (%s is namespaced)", GatewayParametersKind), false
	case ref.Name == "":
		return "spec.parametersRef.name: is required", false
	}
	return "", true
}
