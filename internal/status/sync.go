package status

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/translator"
)

// Object kinds (label "kind").
const (
	kindVirtualDestination = "VirtualDestination"
	kindHTTPRoute          = "HTTPRoute"
	kindGateway            = "Gateway"
	kindGatewayClass       = "GatewayClass"
)

// sync computes the statuses of the current model and writes those that
// differ from the live objects. Objects the model has but the API server
// does not (yet) are skipped: the informer event when they appear brings
// another sync. Objects of a kind whose informer has not synced are skipped
// too (e.g. a CRD not installed yet).
func (w *Writer) sync(ctx context.Context) error {
	rep := translator.Statuses(w.opts.Store.Load())
	now := metav1.Now()
	errs := w.syncOwn(ctx, rep, now)
	if w.classInformer.HasSynced() {
		for _, st := range rep.GatewayClasses {
			errs = append(errs, w.writeGatewayClass(ctx, st, now))
		}
	}
	if w.routeInformer.HasSynced() {
		for _, st := range rep.HTTPRoutes {
			errs = append(errs, w.writeHTTPRoute(ctx, st, rep.ControllerName, now))
		}
	}
	if w.gatewayInformer.HasSynced() {
		for _, st := range rep.Gateways {
			errs = append(errs, w.writeGateway(ctx, st, now))
		}
	}
	return errors.Join(errs...)
}

// writeSteps are what write needs to know about one kind.
type writeSteps[T metav1.Object] struct {
	kind string
	// get reads the object from the API server (after a conflict).
	get func(context.Context) (T, error)
	// version is that of the object the desired status was computed from.
	version translator.ObjectVersion
	// next returns a copy of live with the desired status, or false when
	// live already has it.
	next   func(live T) (T, bool, error)
	update func(context.Context, T) (T, error)
}

// write brings one object's status to what next says, starting from the
// informer's copy and, after a conflict, from a fresh read: at most
// maxAttempts updates.
func write[T metav1.Object](ctx context.Context, w *Writer, s writeSteps[T], cached T) error {
	key := s.kind + " " + cached.GetNamespace() + "/" + cached.GetName()
	live := latest(w, key, cached)
	for attempt := 1; ; attempt++ {
		if !describes(s.version, live) {
			w.metrics.writes.WithLabelValues(s.kind, resultBehind).Inc()
			return nil
		}
		obj, changed, err := s.next(live)
		if err != nil {
			w.metrics.writes.WithLabelValues(s.kind, resultError).Inc()
			return fmt.Errorf("%s: %w", key, err)
		}
		if !changed {
			w.metrics.writes.WithLabelValues(s.kind, resultUnchanged).Inc()
			return nil
		}
		out, err := s.update(ctx, obj)
		switch {
		case err == nil:
			w.metrics.writes.WithLabelValues(s.kind, resultUpdated).Inc()
			w.remember(key, live.GetResourceVersion(), out)
			return nil
		case apierrors.IsNotFound(err):
			return nil // deleted meanwhile: nothing to report on
		case apierrors.IsConflict(err) && attempt < maxAttempts:
			w.metrics.writes.WithLabelValues(s.kind, resultConflict).Inc()
			if live, err = s.get(ctx); apierrors.IsNotFound(err) {
				return nil
			} else if err != nil {
				w.metrics.writes.WithLabelValues(s.kind, resultError).Inc()
				return fmt.Errorf("%s: reading after a conflict: %w", key, err)
			}
		default:
			w.metrics.writes.WithLabelValues(s.kind, resultError).Inc()
			return fmt.Errorf("%s: writing status (attempt %d): %w", key, attempt, err)
		}
	}
}

// describes reports whether a status computed from version v of an object
// describes the live object: the same object (UID) at the same generation.
// Conditions are written with the live generation as observedGeneration, so
// writing while they differ would label what one spec says with another's
// generation: right after a spec change the writer's informer often has
// the new object before the model does (or the other way round), and a
// route deleted and created again under its name starts again at
// generation 1. The sync that follows the lagging side's update writes it.
// What v leaves empty (an object built without metadata) is not compared.
func describes(v translator.ObjectVersion, live metav1.Object) bool {
	return (v.UID == "" || v.UID == live.GetUID()) && (v.Generation == 0 || v.Generation == live.GetGeneration())
}

// latest is the newer of the informer's copy and this replica's own last
// write: right after a write the informer may not have seen it yet, and
// comparing against its stale copy would write again only to conflict.
func latest[T metav1.Object](w *Writer, key string, cached T) T {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r, ok := w.recent[key]; ok {
		if r.fromVersion == cached.GetResourceVersion() {
			if obj, ok := r.obj.(T); ok {
				return obj
			}
		}
		delete(w.recent, key) // the informer caught up (or someone else wrote)
	}
	return cached
}

func (w *Writer) remember(key, fromVersion string, obj metav1.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recent[key] = written{fromVersion: fromVersion, obj: obj}
}

func (w *Writer) writeHTTPRoute(ctx context.Context, st translator.HTTPRouteStatus, controller gwv1.GatewayController, now metav1.Time) error {
	item, ok, err := w.routeInformer.GetStore().GetByKey(st.Namespace + "/" + st.Name)
	if err != nil || !ok {
		return err
	}
	client := w.gw.GatewayV1().HTTPRoutes(st.Namespace)
	return write(ctx, w, writeSteps[*gwv1.HTTPRoute]{
		kind:    kindHTTPRoute,
		version: st.ObjectVersion,
		get: func(ctx context.Context) (*gwv1.HTTPRoute, error) {
			return client.Get(ctx, st.Name, metav1.GetOptions{})
		},
		next: func(live *gwv1.HTTPRoute) (*gwv1.HTTPRoute, bool, error) {
			obj := live.DeepCopy()
			obj.Status.Parents = routeParents(live.Status.Parents, st.Parents, controller, live.Namespace, live.Generation, now)
			return obj, !equality.Semantic.DeepEqual(live.Status, obj.Status), nil
		},
		update: func(ctx context.Context, obj *gwv1.HTTPRoute) (*gwv1.HTTPRoute, error) {
			return client.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		},
	}, item.(*gwv1.HTTPRoute))
}

func (w *Writer) writeGateway(ctx context.Context, st translator.GatewayStatus, now metav1.Time) error {
	item, ok, err := w.gatewayInformer.GetStore().GetByKey(st.Namespace + "/" + st.Name)
	if err != nil || !ok {
		return err
	}
	client := w.gw.GatewayV1().Gateways(st.Namespace)
	return write(ctx, w, writeSteps[*gwv1.Gateway]{
		kind:    kindGateway,
		version: st.ObjectVersion,
		get: func(ctx context.Context) (*gwv1.Gateway, error) {
			return client.Get(ctx, st.Name, metav1.GetOptions{})
		},
		next: func(live *gwv1.Gateway) (*gwv1.Gateway, bool, error) {
			obj := live.DeepCopy()
			obj.Status = gatewayStatus(live.Status, st, live.Generation, now)
			return obj, !equality.Semantic.DeepEqual(live.Status, obj.Status), nil
		},
		update: func(ctx context.Context, obj *gwv1.Gateway) (*gwv1.Gateway, error) {
			return client.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		},
	}, item.(*gwv1.Gateway))
}

// writeGatewayClass writes the status of one of Causeway's GatewayClasses
// (cluster-scoped); Statuses reports on no other.
func (w *Writer) writeGatewayClass(ctx context.Context, st translator.GatewayClassStatus, now metav1.Time) error {
	item, ok, err := w.classInformer.GetStore().GetByKey(st.Name)
	if err != nil || !ok {
		return err
	}
	client := w.gw.GatewayV1().GatewayClasses()
	return write(ctx, w, writeSteps[*gwv1.GatewayClass]{
		kind:    kindGatewayClass,
		version: st.ObjectVersion,
		get: func(ctx context.Context) (*gwv1.GatewayClass, error) {
			return client.Get(ctx, st.Name, metav1.GetOptions{})
		},
		next: func(live *gwv1.GatewayClass) (*gwv1.GatewayClass, bool, error) {
			obj := live.DeepCopy()
			obj.Status = gatewayClassStatus(live.Status, st, live.Generation, now)
			return obj, !equality.Semantic.DeepEqual(live.Status, obj.Status), nil
		},
		update: func(ctx context.Context, obj *gwv1.GatewayClass) (*gwv1.GatewayClass, error) {
			return client.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
		},
	}, item.(*gwv1.GatewayClass))
}
