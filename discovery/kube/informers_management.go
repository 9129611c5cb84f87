package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gwinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"
	gwlisters "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1"
	gwlistersv1beta1 "sigs.k8s.io/gateway-api/pkg/client/listers/apis/v1beta1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
)

// Causeway's custom resources, read through dynamic informers (there is no
// generated clientset) and converted to the api/v1alpha1 types.
var (
	gvrVirtualDestination     = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "virtualdestinations"}
	gvrExternalService        = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "externalservices"}
	gvrFailoverPolicy         = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "failoverpolicies"}
	gvrOutlierDetectionPolicy = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "outlierdetectionpolicies"}
	// Workspaces are cluster-scoped; the all-namespaces informer lists them.
	gvrWorkspace = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "workspaces"}
)

// managementClients are the clients of the management cluster.
type managementClients struct {
	kube    kubernetes.Interface
	dynamic dynamic.Interface
	gateway gwclient.Interface
}

// managementInformers watch the management cluster: cluster Secrets in the
// control plane namespace, Causeway resources and Gateway API objects in
// every namespace.
type managementInformers struct {
	log        *slog.Logger
	kubeF      informers.SharedInformerFactory
	dynF       dynamicinformer.DynamicSharedInformerFactory
	gwF        gwinformers.SharedInformerFactory
	secrets    corelisters.SecretLister
	crs        map[schema.GroupVersionResource]cache.GenericLister
	classes    gwlisters.GatewayClassLister
	gateways   gwlisters.GatewayLister
	httpRoutes gwlisters.HTTPRouteLister
	refGrants  gwlistersv1beta1.ReferenceGrantLister
	gwAPI      *gatewayAPIInformers // Namespaces and TLS Secrets
	hasSynced  []cache.InformerSynced
	// converted is the last conversion of each custom resource kind
	// (owned by the controller loop, which alone calls objects).
	converted map[schema.GroupVersionResource]*crConversions

	mu sync.Mutex
	// lastErr per informer, so a failing list/watch is logged when its
	// error changes, not at every retry.
	lastErr map[string]string
}

// newManagementInformers sets up the informers. kick is called on every
// change except cluster Secrets, which call kickSecrets.
func newManagementInformers(c managementClients, namespace string, log *slog.Logger, kick, kickSecrets func()) (*managementInformers, error) {
	m := &managementInformers{log: log.With("cluster", "management"), lastErr: map[string]string{}, crs: map[schema.GroupVersionResource]cache.GenericLister{}}
	m.kubeF = informers.NewSharedInformerFactoryWithOptions(c.kube, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = SecretLabel + "=true" }))
	m.dynF = dynamicinformer.NewDynamicSharedInformerFactory(c.dynamic, 0)
	m.gwF = gwinformers.NewSharedInformerFactory(c.gateway, 0)

	secrets := m.kubeF.Core().V1().Secrets()
	if err := m.add("Secrets", secrets.Informer(), transformSecret, kickSecrets); err != nil {
		return nil, err
	}
	m.secrets = secrets.Lister()
	for _, gvr := range []schema.GroupVersionResource{gvrVirtualDestination, gvrExternalService, gvrFailoverPolicy, gvrOutlierDetectionPolicy, gvrWorkspace, gvrGatewayParameters} {
		gi := m.dynF.ForResource(gvr)
		if err := m.add(gvr.Resource, gi.Informer(), transformMeta, kick); err != nil {
			return nil, err
		}
		m.crs[gvr] = gi.Lister()
	}
	classes := m.gwF.Gateway().V1().GatewayClasses()
	gws := m.gwF.Gateway().V1().Gateways()
	routes := m.gwF.Gateway().V1().HTTPRoutes()
	grants := m.gwF.Gateway().V1beta1().ReferenceGrants()
	for _, e := range []struct {
		name string
		inf  cache.SharedIndexInformer
	}{{"gatewayclasses", classes.Informer()}, {"gateways", gws.Informer()}, {"httproutes", routes.Informer()}, {"referencegrants", grants.Informer()}} {
		if err := m.add(e.name, e.inf, transformMeta, kick); err != nil {
			return nil, err
		}
	}
	m.classes, m.gateways, m.httpRoutes, m.refGrants = classes.Lister(), gws.Lister(), routes.Lister(), grants.Lister()
	if err := m.addGatewayAPIInformers(c.kube, kick); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *managementInformers) add(name string, inf cache.SharedIndexInformer, transform cache.TransformFunc, kick func()) error {
	return m.addInformer(name, inf, transform, kickHandler(kick, false))
}

func (m *managementInformers) addInformer(name string, inf cache.SharedIndexInformer, transform cache.TransformFunc, handler cache.ResourceEventHandler) error {
	if err := inf.SetTransform(sizeLimited(name, inf.GetStore(), MaxObjectBytes, m.log, transform)); err != nil {
		return err
	}
	if err := inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) { m.watchError(name, err) }); err != nil {
		return err
	}
	if _, err := inf.AddEventHandler(handler); err != nil {
		return err
	}
	m.hasSynced = append(m.hasSynced, inf.HasSynced)
	return nil
}

// watchError logs a failing list or watch (a missing CRD shows up here as
// "the server could not find the requested resource") once per distinct
// error.
func (m *managementInformers) watchError(name string, err error) {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return
	}
	m.mu.Lock()
	repeated := m.lastErr[name] == err.Error()
	m.lastErr[name] = err.Error()
	m.mu.Unlock()
	if !repeated {
		m.log.Warn("management cluster list/watch failed", "resource", name, "error", err.Error())
	}
}

func (m *managementInformers) start(stop <-chan struct{}) {
	m.kubeF.Start(stop)
	m.dynF.Start(stop)
	m.gwF.Start(stop)
	m.gwAPI.factory.Start(stop)
}

func (m *managementInformers) shutdown() {
	m.kubeF.Shutdown()
	m.dynF.Shutdown()
	m.gwF.Shutdown()
	m.gwAPI.factory.Shutdown()
}

func (m *managementInformers) synced() bool {
	for _, s := range m.hasSynced {
		if !s() {
			return false
		}
	}
	return true
}

// secretsSynced reports whether the cluster Secrets are listed: until then
// an empty list does not mean there are none.
func (m *managementInformers) secretsSynced() bool { return m.hasSynced[0]() }

func (m *managementInformers) clusterSecrets() []*corev1.Secret {
	s, _ := m.secrets.List(labels.Everything())
	return modelObjects(s)
}

// objects lists the configuration objects, sorted by namespace/name. Custom
// resources that do not convert to their Go type are returned as errors
// naming the object and left out.
func (m *managementInformers) objects() (*ConfigObjects, []error) {
	var errs []error
	all := labels.Everything()
	cfg := &ConfigObjects{}
	if m.converted == nil {
		m.converted = map[schema.GroupVersionResource]*crConversions{}
	}
	conv := func(gvr schema.GroupVersionResource) *crConversions {
		if m.converted[gvr] == nil {
			m.converted[gvr] = &crConversions{}
		}
		return m.converted[gvr]
	}
	cfg.VirtualDestinations = convertCRs[v1alpha1.VirtualDestination](m.crs[gvrVirtualDestination], "VirtualDestination", conv(gvrVirtualDestination), &errs)
	cfg.ExternalServices = convertCRs[v1alpha1.ExternalService](m.crs[gvrExternalService], "ExternalService", conv(gvrExternalService), &errs)
	cfg.FailoverPolicies = convertCRs[v1alpha1.FailoverPolicy](m.crs[gvrFailoverPolicy], "FailoverPolicy", conv(gvrFailoverPolicy), &errs)
	cfg.OutlierDetectionPolicies = convertCRs[v1alpha1.OutlierDetectionPolicy](m.crs[gvrOutlierDetectionPolicy], "OutlierDetectionPolicy", conv(gvrOutlierDetectionPolicy), &errs)
	cfg.Workspaces = convertCRs[v1alpha1.Workspace](m.crs[gvrWorkspace], "Workspace", conv(gvrWorkspace), &errs)
	cfg.GatewayParameters = convertCRs[v1alpha1.GatewayParameters](m.crs[gvrGatewayParameters], "GatewayParameters", conv(gvrGatewayParameters), &errs)
	cfg.GatewayClasses, _ = m.classes.List(all)
	cfg.GatewayClasses = modelObjects(cfg.GatewayClasses)
	cfg.Gateways, _ = m.gateways.List(all)
	cfg.HTTPRoutes, _ = m.httpRoutes.List(all)
	cfg.ReferenceGrants, _ = m.refGrants.List(all)
	cfg.Gateways = modelObjects(cfg.Gateways)
	cfg.HTTPRoutes = modelObjects(cfg.HTTPRoutes)
	cfg.ReferenceGrants = modelObjects(cfg.ReferenceGrants)
	m.gwAPI.objects(cfg)
	return cfg, errs
}

// crConversions is a kind's last conversion by convertCRs, so that a
// rebuild converts only the custom resources that changed: conversion
// from unstructured is slow (reflection) and the management cluster may
// hold thousands. Cached objects are never modified in place, so an
// unchanged pointer is an unchanged object.
type crConversions struct {
	byObj map[runtime.Object]crConversion
	// out is the last result ([]PT) and errs its errors.
	out  any
	errs []error
}

// crConversion is one listed object's conversion: its typed copy, or the
// error; neither for stand-ins and foreign types.
type crConversion struct {
	typed any
	err   error
}

// convertCRs converts a dynamic lister's objects to *T, sorted by
// namespace/name. The CRD schema makes failures rare (a type change between
// versions, say); they are reported and only that object is skipped. While
// the lister holds the objects of the last call, the last result is
// returned as it was: callers must not modify it.
func convertCRs[T any, PT interface {
	*T
	metav1.Object
}](l cache.GenericLister, kind string, last *crConversions, errs *[]error) []PT {
	objs, _ := l.List(labels.Everything())
	if out, ok := last.out.([]PT); ok && len(objs) == len(last.byObj) && allKnown(objs, last.byObj) {
		*errs = append(*errs, last.errs...)
		return out
	}
	next := make(map[runtime.Object]crConversion, len(objs))
	out := make([]PT, 0, len(objs))
	var newErrs []error
	for _, o := range objs {
		c, ok := last.byObj[o]
		if !ok {
			c = convertCR[T, PT](o, kind)
		}
		next[o] = c
		switch {
		case c.err != nil:
			newErrs = append(newErrs, c.err)
		case c.typed != nil:
			out = append(out, c.typed.(PT))
		}
	}
	sortByKey(out)
	last.byObj, last.out, last.errs = next, out, newErrs
	*errs = append(*errs, newErrs...)
	return out
}

func allKnown(objs []runtime.Object, known map[runtime.Object]crConversion) bool {
	for _, o := range objs {
		if _, ok := known[o]; !ok {
			return false
		}
	}
	return true
}

// convertCR converts one listed object to *T.
func convertCR[T any, PT interface {
	*T
	metav1.Object
}](o runtime.Object, kind string) crConversion {
	u, ok := o.(*unstructured.Unstructured)
	if !ok || isOversized(u) {
		return crConversion{}
	}
	var t PT = new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, t); err != nil {
		return crConversion{err: fmt.Errorf("%s %s/%s: %w", kind, u.GetNamespace(), u.GetName(), err)}
	}
	return crConversion{typed: t}
}
