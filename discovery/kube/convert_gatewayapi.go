package kube

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/causeway-dev/causeway/model"
)

// convertNamespacesAndSecrets adds the management cluster's Namespaces
// (name and labels) and kubernetes.io/tls Secrets to w. The Secrets' PEM is
// copied as is: the translator checks it where a listener uses it, so a
// bad certificate fails that listener, not the world.
func convertNamespacesAndSecrets(config *ConfigObjects, w *model.World) {
	for _, ns := range config.Namespaces {
		if ns != nil {
			w.Namespaces = append(w.Namespaces, model.Namespace{Name: ns.Name, Labels: ns.Labels})
		}
	}
	for _, s := range config.TLSSecrets {
		if s != nil && s.Type == corev1.SecretTypeTLS {
			w.Secrets = append(w.Secrets, model.Secret{Namespace: s.Namespace, Name: s.Name,
				CertPEM: s.Data[corev1.TLSCertKey], KeyPEM: s.Data[corev1.TLSPrivateKeyKey]})
		}
	}
}
