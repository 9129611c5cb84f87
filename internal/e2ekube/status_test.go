package e2ekube

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// statusWithin bounds how long status takes to be written: leader election
// on a fresh Lease, then a debounced write.
const statusWithin = 20 * time.Second

// vdStatus is a VirtualDestination's status as kubectl shows it.
type vdStatus struct {
	State              string
	Message            string
	SelectedServices   int64
	Clusters           []string
	ObservedGeneration int64
}

func readVDStatus(obj *unstructured.Unstructured) vdStatus {
	var st vdStatus
	st.State, _, _ = unstructured.NestedString(obj.Object, "status", "state")
	st.Message, _, _ = unstructured.NestedString(obj.Object, "status", "message")
	st.SelectedServices, _, _ = unstructured.NestedInt64(obj.Object, "status", "selectedServices")
	st.Clusters, _, _ = unstructured.NestedStringSlice(obj.Object, "status", "clusters")
	st.ObservedGeneration, _, _ = unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	return st
}

// vdAccepted checks the reviews VirtualDestination's status: accepted, two
// selected Services (one per cluster), both clusters, current generation.
func vdAccepted(obj *unstructured.Unstructured) error {
	got := readVDStatus(obj)
	want := vdStatus{State: "ACCEPTED", SelectedServices: 2, Clusters: []string{"cluster-1", "cluster-2"},
		ObservedGeneration: obj.GetGeneration(), Message: got.Message}
	if d := cmp.Diff(want, got); d != "" {
		return fmt.Errorf("status (-want +got):\n%s", d)
	}
	return nil
}

// condition checks that conds has typ with status and reason, observed at
// generation.
func condition(conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string, generation int64) error {
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		return fmt.Errorf("no %s condition in %+v", typ, conds)
	}
	if c.Status != status || c.Reason != reason || c.ObservedGeneration != generation {
		return fmt.Errorf("%s = %s/%s (generation %d, message %q), want %s/%s (generation %d)",
			typ, c.Status, c.Reason, c.ObservedGeneration, c.Message, status, reason, generation)
	}
	return nil
}

// routeParent checks the HTTPRoute's status for its only parent, the
// Gateway gateways/http: Accepted and ResolvedRefs as given.
func routeParent(resolved metav1.ConditionStatus, resolvedReason string) func(*unstructured.Unstructured) error {
	return func(obj *unstructured.Unstructured) error {
		var route gwv1.HTTPRoute
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &route); err != nil {
			return err
		}
		if n := len(route.Status.Parents); n != 1 {
			return fmt.Errorf("%d parent statuses, want 1: %+v", n, route.Status.Parents)
		}
		p := route.Status.Parents[0]
		if p.ParentRef.Name != "http" || p.ParentRef.Namespace == nil || *p.ParentRef.Namespace != gatewayNamespace {
			return fmt.Errorf("parent status for %+v, want Gateway %s/http", p.ParentRef, gatewayNamespace)
		}
		if p.ControllerName == "" {
			return errors.New("parent status without controllerName")
		}
		return errors.Join(
			condition(p.Conditions, string(gwv1.RouteConditionAccepted), metav1.ConditionTrue, string(gwv1.RouteReasonAccepted), route.Generation),
			condition(p.Conditions, string(gwv1.RouteConditionResolvedRefs), resolved, resolvedReason, route.Generation),
		)
	}
}

func gatewayProgrammed(obj *unstructured.Unstructured) error {
	var gw gwv1.Gateway
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &gw); err != nil {
		return err
	}
	return condition(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed), metav1.ConditionTrue,
		string(gwv1.GatewayReasonProgrammed), gw.Generation)
}

// testStatuses: the leader writes what the translator concludes.
func (s *suite) testStatuses(t *testing.T) {
	vd := s.mgmt.awaitObject(t, statusWithin, "VirtualDestination", "bookinfo", "reviews-vd", vdAccepted)
	t.Logf("VirtualDestination bookinfo/reviews-vd: %+v", readVDStatus(vd))
	s.mgmt.awaitObject(t, statusWithin, "HTTPRoute", gatewayNamespace, "reviews", routeParent(metav1.ConditionTrue, string(gwv1.RouteReasonResolvedRefs)))
	s.mgmt.awaitObject(t, statusWithin, "Gateway", gatewayNamespace, "http", gatewayProgrammed)
}

// testInvalidObjects: what admission can check is refused with the field
// named; what only translation can see is reported in status, and the valid
// configuration keeps serving.
func (s *suite) testInvalidObjects(t *testing.T) {
	s.gw1.await(t, convergeWithin, "baseline", equals(baseline1()...))
	mark := s.gw1.mark()

	t.Run("RejectedAtAdmission", s.testRejectedAtAdmission)
	t.Run("ConflictAtTranslation", s.testConflictAtTranslation)
	t.Run("UnresolvedBackend", s.testUnresolvedBackend)

	// Through all of it, cluster-1's gateway kept the same endpoints.
	if err := unchangedSince(s.gw1, mark, baseline1()); err != nil {
		t.Errorf("EDS changed while invalid objects came and went: %v", err)
	}
	s.gw1.await(t, convergeWithin, "baseline still served", equals(baseline1()...))
}

// testRejectedAtAdmission: the CRD's CEL rules refuse what they can check,
// naming the field and the rule.
func (s *suite) testRejectedAtAdmission(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		// want are substrings of the API server's error: the field
		// path and the rule's message.
		want []string
	}{
		{
			name: "no-selector",
			spec: `{hosts: [bad.mesh.internal.com], ports: [{number: 9080}]}`,
			want: []string{"spec: Invalid value", "at least one of spec.services or spec.externalServices must select a backend"},
		},
		{
			name: "duplicate-ports",
			spec: `{hosts: [bad.mesh.internal.com], ports: [{number: 9080}, {number: 9080, protocol: HTTP2}], services: [{labels: {app: reviews}}]}`,
			want: []string{"spec.ports: Invalid value", "port numbers must be unique"},
		},
		{
			// Host syntax is an OpenAPI pattern rather than CEL: same
			// path to the user.
			name: "bad-host",
			spec: `{hosts: [Reviews_Mesh], ports: [{number: 9080}], services: [{labels: {app: reviews}}]}`,
			want: []string{"spec.hosts[0]: Invalid value: \"Reviews_Mesh\"", "should match"},
		},
		{
			name: "target-port-number-and-name",
			spec: `{hosts: [bad.mesh.internal.com], ports: [{number: 9080, targetPort: {number: 9080, name: http}}], services: [{labels: {app: reviews}}]}`,
			want: []string{"spec.ports[0].targetPort: Invalid value", "exactly one of number or name must be set"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			manifest := fmt.Sprintf("apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: %s, namespace: bookinfo}\nspec: %s\n", tc.name, tc.spec)
			err := s.mgmt.create(manifest)
			if err == nil {
				s.mgmt.remove(t, manifest)
				t.Fatalf("created; want it rejected at admission")
			}
			if !apierrors.IsInvalid(err) {
				t.Errorf("error is not 422 Invalid: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			t.Logf("rejected: %v", err)
		})
	}
}

// testConflictAtTranslation: a VirtualDestination valid on its own but
// claiming a host:port another one has is INVALID, naming the conflict.
func (s *suite) testConflictAtTranslation(t *testing.T) {
	// Valid on its own, but reviews.mesh.internal.com:9080 is taken by
	// bookinfo/reviews-vd. It selects only cluster-2's reviews, so EDS
	// would show if it won.
	const shadow = `
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews-vd-shadow, namespace: bookinfo}
spec:
  hosts: [` + reviewsHost + `]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: reviews}, cluster: cluster-2}]
`
	s.mgmt.apply(t, shadow)
	t.Cleanup(func() { s.mgmt.remove(t, shadow) })
	obj := s.mgmt.awaitObject(t, statusWithin, "VirtualDestination", "bookinfo", "reviews-vd-shadow", func(obj *unstructured.Unstructured) error {
		st := readVDStatus(obj)
		if st.State != "INVALID" {
			return fmt.Errorf("state %q (message %q), want INVALID", st.State, st.Message)
		}
		for _, w := range []string{"spec.hosts", reviewsHost, "9080", "bookinfo/reviews-vd"} {
			if !strings.Contains(st.Message, w) {
				return fmt.Errorf("message %q does not name %q", st.Message, w)
			}
		}
		if st.ObservedGeneration != obj.GetGeneration() {
			return fmt.Errorf("observedGeneration %d, want %d", st.ObservedGeneration, obj.GetGeneration())
		}
		return nil
	})
	t.Logf("VirtualDestination bookinfo/reviews-vd-shadow: %+v", readVDStatus(obj))
	s.mgmt.awaitObject(t, statusWithin, "VirtualDestination", "bookinfo", "reviews-vd", vdAccepted)
}

// testUnresolvedBackend: a route to a host no VirtualDestination has gets
// ResolvedRefs False/BackendNotFound; the other route is unaffected.
func (s *suite) testUnresolvedBackend(t *testing.T) {
	// A route to a host no VirtualDestination has: its rule answers
	// 500 and its status says why; the other route is unaffected.
	const broken = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ratings, namespace: ` + gatewayNamespace + `}
spec:
  parentRefs: [{name: http, namespace: ` + gatewayNamespace + `}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /ratings}}]
    backendRefs: [{group: networking.istio.io, kind: Hostname, name: ratings.mesh.internal.com, port: 9080}]
`
	s.mgmt.apply(t, broken)
	t.Cleanup(func() { s.mgmt.remove(t, broken) })
	s.mgmt.awaitObject(t, statusWithin, "HTTPRoute", gatewayNamespace, "ratings",
		routeParent(metav1.ConditionFalse, string(gwv1.RouteReasonBackendNotFound)))
	s.mgmt.awaitObject(t, statusWithin, "HTTPRoute", gatewayNamespace, "reviews",
		routeParent(metav1.ConditionTrue, string(gwv1.RouteReasonResolvedRefs)))
}
