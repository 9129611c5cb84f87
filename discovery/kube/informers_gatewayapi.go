package kube

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// What Gateway listeners read from the management cluster besides the
// Gateway API objects: Namespaces (their labels, for allowedRoutes
// namespace selectors) and kubernetes.io/tls Secrets in every namespace
// (certificateRefs of HTTPS listeners). The cluster-registration Secrets
// have their own informer, limited to the control plane's namespace.

// tlsSecretFieldSelector lists only kubernetes.io/tls Secrets: the API
// server filters, so other Secrets (service-account tokens, users' own
// credentials) never reach Causeway's memory.
var tlsSecretFieldSelector = fields.OneTermEqualSelector("type", string(corev1.SecretTypeTLS)).String()

// gatewayAPIInformers watch Namespaces and TLS Secrets cluster-wide.
type gatewayAPIInformers struct {
	factory    informers.SharedInformerFactory
	namespaces corelisters.NamespaceLister
	tlsSecrets corelisters.SecretLister
}

// addGatewayAPIInformers sets up m's Namespace and TLS Secret informers;
// every change kicks a rebuild (a Namespace label change can attach or
// detach routes).
func (m *managementInformers) addGatewayAPIInformers(c kubernetes.Interface, kick func()) error {
	f := informers.NewSharedInformerFactory(c, 0)
	nsInf := f.Core().V1().Namespaces()
	secInf := f.InformerFor(&corev1.Secret{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return coreinformers.NewFilteredSecretInformer(c, metav1.NamespaceAll, resync,
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
			func(o *metav1.ListOptions) { o.FieldSelector = tlsSecretFieldSelector })
	})
	// Transforms make status-only Namespace updates and metadata-only
	// Secret updates identical to what is cached: no rebuild for them.
	if err := m.addInformer("namespaces", nsInf.Informer(), transformNamespace, kickHandler(kick, true)); err != nil {
		return err
	}
	if err := m.addInformer("tls secrets", secInf, transformTLSSecret, kickHandler(kick, true)); err != nil {
		return err
	}
	m.gwAPI = &gatewayAPIInformers{
		factory:    f,
		namespaces: nsInf.Lister(),
		tlsSecrets: corelisters.NewSecretLister(secInf.GetIndexer()),
	}
	return nil
}

// objects fills the Namespaces and TLS Secrets of cfg, sorted.
func (g *gatewayAPIInformers) objects(cfg *ConfigObjects) {
	all := labels.Everything()
	cfg.Namespaces, _ = g.namespaces.List(all)
	cfg.TLSSecrets, _ = g.tlsSecrets.List(all)
	cfg.Namespaces = modelObjects(cfg.Namespaces)
	cfg.TLSSecrets = modelObjects(cfg.TLSSecrets)
}

// transformNamespace keeps a Namespace's name and labels: all a namespace
// selector reads. Spec (finalizers) and status (phase, conditions) go.
func transformNamespace(obj interface{}) (interface{}, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok || isOversized(ns) { // a stand-in (client-go may transform it again) keeps its mark
		return obj, nil
	}
	stripMeta(ns)
	ns.Annotations = nil
	ns.OwnerReferences = nil
	ns.Finalizers = nil
	ns.Spec = corev1.NamespaceSpec{}
	ns.Status = corev1.NamespaceStatus{}
	return ns, nil
}

// transformTLSSecret keeps a TLS Secret's certificate and key, nothing
// else: not its labels or annotations (which may carry copies of data for
// other tools) nor other data keys (ca.crt and the like are not served).
func transformTLSSecret(obj interface{}) (interface{}, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok || isOversized(s) { // a stand-in (client-go may transform it again) keeps its mark
		return obj, nil
	}
	stripMeta(s)
	s.Annotations = nil
	s.Labels = nil
	s.OwnerReferences = nil
	kept := map[string][]byte{}
	for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
		if v, ok := s.Data[k]; ok {
			kept[k] = v
		}
	}
	s.Data = kept
	s.StringData = nil
	return s, nil
}
