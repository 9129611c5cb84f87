package translator

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// Which namespaces a listener takes routes from: allowedRoutes.namespaces
// (Same by default, All, or Selector matched against Namespace labels).

// namespacesFrom is the listener's allowedRoutes.namespaces.from, Same when
// unset (the API's default).
func namespacesFrom(l gwv1.Listener) gwv1.FromNamespaces {
	if ar := l.AllowedRoutes; ar != nil && ar.Namespaces != nil && ar.Namespaces.From != nil {
		return *ar.Namespaces.From
	}
	return gwv1.NamespacesFromSame
}

// namespaceSelector parses the selector of a from: Selector listener; nil
// for the other modes. A missing selector is an error (the API requires
// one with Selector); an empty one selects every namespace, as Kubernetes
// label selectors do.
func namespaceSelector(l gwv1.Listener) (labels.Selector, error) {
	if namespacesFrom(l) != gwv1.NamespacesFromSelector {
		return nil, nil
	}
	sel := l.AllowedRoutes.Namespaces.Selector
	if sel == nil {
		return nil, errors.New("from: Selector needs a selector")
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("invalid namespace selector: %w", err)
	}
	return s, nil
}

// namespaceLabels are the labels of namespace name as a selector sees
// them: its Namespace object's labels, plus kubernetes.io/metadata.name,
// which Kubernetes sets on every namespace (so it holds even for a
// namespace the world has no Namespace object for, or whose object
// predates the label).
func namespaceLabels(w *model.Snapshot, name string) labels.Set {
	set := labels.Set{}
	if ns := w.Namespace(name); ns != nil {
		for k, v := range ns.Labels {
			set[k] = v
		}
	}
	set[corev1.LabelMetadataName] = name
	return set
}

// allowsNamespace reports whether l takes routes from namespace ns.
func (l gwListener) allowsNamespace(w *model.Snapshot, ns string) bool {
	switch namespacesFrom(l.listener) {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSelector:
		return l.nsSelector != nil && l.nsSelector.Matches(namespaceLabels(w, ns))
	default: // Same
		return ns == l.gw.Namespace
	}
}
