package file

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/causeway-dev/causeway/model"
)

// parseGatewayClass reads a GatewayClass, cluster-scoped like upstream's.
// Whether Causeway owns it (its controllerName) is the translator's call,
// as in Kubernetes mode.
func (dp *docParser) parseGatewayClass(data []byte) {
	var gc model.GatewayClass
	if !dp.decodeStrict(data, &gc) {
		return
	}
	ok := dp.checkName(gc.Name)
	if gc.Namespace != "" {
		dp.errorf("metadata.namespace", "GatewayClass is cluster-scoped; remove the namespace")
		ok = false
	}
	if gc.Spec.ControllerName == "" {
		dp.errorf("spec.controllerName", "is required (Causeway's is %s unless serve --controller-name says otherwise)", model.DefaultControllerName)
		ok = false
	}
	if ok {
		dp.accept("GatewayClass "+gc.Name, func(p *parser, _ docRef) {
			p.world.GatewayClasses = append(p.world.GatewayClasses, &gc)
		})
	}
}

// parseNamespace reads a Namespace document: its labels are what listener
// allowedRoutes.namespaces.selector matches. Namespaces without a document
// have no labels.
func (dp *docParser) parseNamespace(data []byte) {
	var ns corev1.Namespace
	if !dp.decodeStrict(data, &ns) {
		return
	}
	ok := dp.checkName(ns.Name)
	if ns.Namespace != "" {
		dp.errorf("metadata.namespace", "Namespace is cluster-scoped; remove the namespace")
		ok = false
	}
	if ok {
		dp.accept("Namespace "+ns.Name, func(p *parser, _ docRef) {
			p.world.Namespaces = append(p.world.Namespaces, model.Namespace{Name: ns.Name, Labels: ns.Labels})
		})
	}
}
