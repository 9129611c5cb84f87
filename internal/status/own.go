package status

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// Causeway's own kinds, written through the dynamic client (Causeway has
// no generated clientset). Their conditions belong to Causeway alone, so
// the written list is exactly Causeway's (ownConditions), not a merge.

func ownResource(plural string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: model.APIGroup, Version: "v1alpha1", Resource: plural}
}

var (
	// virtualDestinations is the VirtualDestination resource.
	virtualDestinations = ownResource("virtualdestinations")
	externalServices    = ownResource("externalservices")
	failoverPolicies    = ownResource("failoverpolicies")
	outlierPolicies     = ownResource("outlierdetectionpolicies")
	// workspaces are cluster-scoped.
	workspaces = ownResource("workspaces")
)

// Kinds (label "kind") of Causeway's own objects besides VirtualDestination.
const (
	kindExternalService        = "ExternalService"
	kindFailoverPolicy         = "FailoverPolicy"
	kindOutlierDetectionPolicy = "OutlierDetectionPolicy"
	kindWorkspace              = "Workspace"
)

// ownObject is one object of Causeway's kinds to write: where it is, and
// its status to write given the live one, the live object's generation
// and the time of this sync.
type ownObject[S any] struct {
	kind      string
	resource  schema.GroupVersionResource
	informer  cache.SharedIndexInformer
	namespace string // empty: cluster-scoped
	name      string
	desired   func(live S, gen int64) S
}

// writeOwn writes one object's status when desired differs from the live
// one; an object the informer does not have (yet) is skipped.
func writeOwn[S any](ctx context.Context, w *Writer, o ownObject[S]) error {
	key := o.name
	if o.namespace != "" {
		key = o.namespace + "/" + o.name
	}
	item, ok, err := o.informer.GetStore().GetByKey(key)
	if err != nil || !ok {
		return err
	}
	var client dynamic.ResourceInterface = w.dyn.Resource(o.resource)
	if o.namespace != "" {
		client = w.dyn.Resource(o.resource).Namespace(o.namespace)
	}
	return write(ctx, w, writeSteps[*unstructured.Unstructured]{
		kind: o.kind,
		get: func(ctx context.Context) (*unstructured.Unstructured, error) {
			return client.Get(ctx, o.name, metav1.GetOptions{})
		},
		next: func(live *unstructured.Unstructured) (*unstructured.Unstructured, bool, error) {
			var current S
			if m, found, _ := unstructured.NestedMap(live.Object, "status"); found {
				// A status that does not convert is simply different.
				_ = runtime.DefaultUnstructuredConverter.FromUnstructured(m, &current)
			}
			desired := o.desired(current, live.GetGeneration())
			if equality.Semantic.DeepEqual(current, desired) {
				return nil, false, nil
			}
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&desired)
			if err != nil {
				return nil, false, err
			}
			obj := live.DeepCopy()
			obj.Object["status"] = m
			return obj, true, nil
		},
		update: func(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
			return client.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		},
	}, item.(*unstructured.Unstructured))
}

// syncOwn writes the statuses of Causeway's own kinds in rep, each kind
// only once its informer has synced (a CRD not installed yet never does).
func (w *Writer) syncOwn(ctx context.Context, rep *translator.StatusReport, now metav1.Time) []error {
	var errs []error
	if w.vdInformer.HasSynced() {
		for _, st := range rep.VirtualDestinations {
			errs = append(errs, writeOwn(ctx, w, ownObject[v1alpha1.VirtualDestinationStatus]{
				kind: kindVirtualDestination, resource: virtualDestinations, informer: w.vdInformer,
				namespace: st.Namespace, name: st.Name,
				desired: func(live v1alpha1.VirtualDestinationStatus, gen int64) v1alpha1.VirtualDestinationStatus {
					return virtualDestinationStatus(st, live, gen, now)
				},
			}))
		}
	}
	if w.externalInformer.HasSynced() {
		for _, st := range rep.ExternalServices {
			errs = append(errs, writeOwn(ctx, w, ownObject[v1alpha1.PolicyStatus]{
				kind: kindExternalService, resource: externalServices, informer: w.externalInformer,
				namespace: st.Namespace, name: st.Name,
				desired: func(live v1alpha1.PolicyStatus, gen int64) v1alpha1.PolicyStatus {
					return objectStatus(st, live, gen, now)
				},
			}))
		}
	}
	for _, k := range []struct {
		kind     string
		resource schema.GroupVersionResource
		informer cache.SharedIndexInformer
		statuses []translator.PolicyStatus
	}{
		{kindFailoverPolicy, failoverPolicies, w.failoverInformer, rep.FailoverPolicies},
		{kindOutlierDetectionPolicy, outlierPolicies, w.outlierInformer, rep.OutlierDetectionPolicies},
	} {
		if !k.informer.HasSynced() {
			continue
		}
		for _, st := range k.statuses {
			errs = append(errs, writeOwn(ctx, w, ownObject[v1alpha1.DestinationPolicyStatus]{
				kind: k.kind, resource: k.resource, informer: k.informer,
				namespace: st.Namespace, name: st.Name,
				desired: func(live v1alpha1.DestinationPolicyStatus, gen int64) v1alpha1.DestinationPolicyStatus {
					return policyStatus(st, live, gen, now)
				},
			}))
		}
	}
	if w.workspaceInformer.HasSynced() {
		for _, st := range rep.Workspaces {
			errs = append(errs, writeOwn(ctx, w, ownObject[v1alpha1.PolicyStatus]{
				kind: kindWorkspace, resource: workspaces, informer: w.workspaceInformer, name: st.Name,
				desired: func(live v1alpha1.PolicyStatus, gen int64) v1alpha1.PolicyStatus {
					return objectStatus(st, live, gen, now)
				},
			}))
		}
	}
	return errs
}
