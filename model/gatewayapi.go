package model

import gwv1 "sigs.k8s.io/gateway-api/apis/v1"

// GatewayClass is an upstream Gateway API GatewayClass. Causeway owns the
// classes whose spec.controllerName is the world's ControllerName; only
// Gateways of those classes are translated and get status.
type GatewayClass = gwv1.GatewayClass

// DefaultControllerName is the controllerName Causeway answers to unless
// told otherwise (causeway serve --controller-name).
const DefaultControllerName = "causeway.dev/gateway-controller"

// Namespace is a namespace of the management cluster with its labels, for
// Gateway listeners that admit routes by namespace selector.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Secret is a kubernetes.io/tls Secret of the management cluster (or of a
// world file): a certificate chain and its private key, PEM encoded, that
// Gateway listeners reference in tls.certificateRefs. The translator checks
// the PEM; discovery only copies it.
type Secret struct {
	Namespace, Name string
	CertPEM, KeyPEM []byte
}
