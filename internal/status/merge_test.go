package status

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// ourController is the controllerName the tests' Causeway answers to.
const ourController gwv1.GatewayController = model.DefaultControllerName

var (
	then = metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	now  = metav1.NewTime(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
)

func cond(typ string, status metav1.ConditionStatus, reason string, gen int64, at metav1.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: reason + " message", ObservedGeneration: gen, LastTransitionTime: at}
}

func TestMergeConditions(t *testing.T) {
	desired := []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "Accepted message"},
		{Type: "Programmed", Status: metav1.ConditionFalse, Reason: "Invalid", Message: "Invalid message"},
	}
	for _, tc := range []struct {
		name string
		live []metav1.Condition
		want []metav1.Condition
	}{
		{"new conditions start now", nil, []metav1.Condition{
			cond("Accepted", metav1.ConditionTrue, "Accepted", 3, now),
			cond("Programmed", metav1.ConditionFalse, "Invalid", 3, now),
		}},
		{"unchanged status keeps its time, takes the new generation", []metav1.Condition{
			cond("Accepted", metav1.ConditionTrue, "Accepted", 2, then),
			cond("Programmed", metav1.ConditionFalse, "Invalid", 2, then),
		}, []metav1.Condition{
			cond("Accepted", metav1.ConditionTrue, "Accepted", 3, then),
			cond("Programmed", metav1.ConditionFalse, "Invalid", 3, then),
		}},
		{"changed status moves its time; other types stay", []metav1.Condition{
			cond("Programmed", metav1.ConditionUnknown, "Pending", 1, then),
			cond("Accepted", metav1.ConditionTrue, "Accepted", 3, then),
			cond("Custom", metav1.ConditionTrue, "Mine", 1, then),
		}, []metav1.Condition{
			cond("Programmed", metav1.ConditionFalse, "Invalid", 3, now),
			cond("Accepted", metav1.ConditionTrue, "Accepted", 3, then),
			cond("Custom", metav1.ConditionTrue, "Mine", 1, then),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeConditions(tc.live, desired, 3, now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRouteParents(t *testing.T) {
	gwGroup, gwKind := gwv1.Group(gwv1.GroupName), gwv1.Kind("Gateway")
	ns := gwv1.Namespace("gloo-system")
	http := gwv1.ParentReference{Name: "http", Namespace: &ns}
	httpDefaulted := gwv1.ParentReference{Group: &gwGroup, Kind: &gwKind, Name: "http", Namespace: &ns}
	other := gwv1.RouteParentStatus{ParentRef: httpDefaulted, ControllerName: "example.com/other",
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionFalse, "NotAllowedByListeners", 1, then)}}
	ours := []gwv1.RouteParentStatus{{ParentRef: http, ControllerName: ourController, Conditions: []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "Accepted message"},
		{Type: "ResolvedRefs", Status: metav1.ConditionFalse, Reason: "BackendNotFound", Message: "BackendNotFound message"},
	}}}
	for _, tc := range []struct {
		name string
		live []gwv1.RouteParentStatus
		want []gwv1.RouteParentStatus
	}{
		{"first write: defaults filled, other controllers kept first", []gwv1.RouteParentStatus{other}, []gwv1.RouteParentStatus{other, {
			ParentRef: httpDefaulted, ControllerName: ourController, Conditions: []metav1.Condition{
				cond("Accepted", metav1.ConditionTrue, "Accepted", 4, now),
				cond("ResolvedRefs", metav1.ConditionFalse, "BackendNotFound", 4, now),
			}}}},
		{"attached only to other controllers' Gateways: live kept as it is", []gwv1.RouteParentStatus{other}, nil},
		{"rewrite: times kept where the status held, stale parents dropped", []gwv1.RouteParentStatus{
			{ParentRef: httpDefaulted, ControllerName: ourController, Conditions: []metav1.Condition{
				cond("Accepted", metav1.ConditionTrue, "Accepted", 3, then),
				cond("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", 3, then),
			}},
			{ParentRef: gwv1.ParentReference{Name: "gone"}, ControllerName: ourController,
				Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 3, then)}},
			other,
		}, []gwv1.RouteParentStatus{other, {
			ParentRef: httpDefaulted, ControllerName: ourController, Conditions: []metav1.Condition{
				cond("Accepted", metav1.ConditionTrue, "Accepted", 4, then),
				cond("ResolvedRefs", metav1.ConditionFalse, "BackendNotFound", 4, now),
			}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ours := ours
			if tc.want == nil { // no parent of Causeway's to report on
				ours, tc.want = nil, tc.live
			}
			got := routeParents(tc.live, ours, ourController, "bookinfo", 4, now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSameParent(t *testing.T) {
	ns := func(s string) *gwv1.Namespace { n := gwv1.Namespace(s); return &n }
	sec := func(s string) *gwv1.SectionName { n := gwv1.SectionName(s); return &n }
	port := func(p int32) *gwv1.PortNumber { n := gwv1.PortNumber(p); return &n }
	g := gwv1.Group(gwv1.GroupName)
	for _, tc := range []struct {
		name string
		a, b gwv1.ParentReference
		want bool
	}{
		{"defaults", gwv1.ParentReference{Name: "gw"}, gwv1.ParentReference{Group: &g, Name: "gw"}, true},
		{"route namespace is the default", gwv1.ParentReference{Name: "gw"}, gwv1.ParentReference{Name: "gw", Namespace: ns("bookinfo")}, true},
		{"other namespace", gwv1.ParentReference{Name: "gw"}, gwv1.ParentReference{Name: "gw", Namespace: ns("x")}, false},
		{"section", gwv1.ParentReference{Name: "gw", SectionName: sec("a")}, gwv1.ParentReference{Name: "gw"}, false},
		{"port", gwv1.ParentReference{Name: "gw", Port: port(80)}, gwv1.ParentReference{Name: "gw", Port: port(80)}, true},
		{"other port", gwv1.ParentReference{Name: "gw", Port: port(80)}, gwv1.ParentReference{Name: "gw", Port: port(81)}, false},
	} {
		if got := sameParent(tc.a, tc.b, "bookinfo"); got != tc.want {
			t.Errorf("%s: sameParent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGatewayStatus(t *testing.T) {
	kinds := []gwv1.RouteGroupKind{{Kind: "HTTPRoute"}}
	addr := []gwv1.GatewayStatusAddress{{Value: "127.0.1.1"}}
	// status.addresses are the translator's (spec.addresses or the
	// provisioned Service's), replacing what the live object had.
	newAddr := []gwv1.GatewayStatusAddress{{Value: "10.0.0.9"}}
	st := translator.GatewayStatus{
		Addresses: newAddr,
		Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "Accepted message"},
			{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed", Message: "Programmed message"}},
		Listeners: []gwv1.ListenerStatus{{Name: "http", SupportedKinds: kinds, AttachedRoutes: 2, Conditions: []metav1.Condition{
			{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "Accepted message"}}}},
	}
	live := gwv1.GatewayStatus{
		Addresses: addr,
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionUnknown, "Pending", 0, then),
			cond("Programmed", metav1.ConditionTrue, "Programmed", 1, then)},
		Listeners: []gwv1.ListenerStatus{
			{Name: "http", SupportedKinds: kinds, AttachedRoutes: 1, Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 1, then)}},
			{Name: "removed", SupportedKinds: kinds},
		},
	}
	want := gwv1.GatewayStatus{
		Addresses: newAddr,
		Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 2, now),
			cond("Programmed", metav1.ConditionTrue, "Programmed", 2, then)},
		Listeners: []gwv1.ListenerStatus{{Name: "http", SupportedKinds: kinds, AttachedRoutes: 2,
			Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue, "Accepted", 2, then)}}},
	}
	if diff := cmp.Diff(want, gatewayStatus(live, st, 2, now)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("é", maxMessage) // two bytes each
	got := truncate(long)
	if len(got) > maxMessage || !strings.HasSuffix(got, "...") || !strings.HasPrefix(got, "éé") {
		t.Errorf("truncate: length %d, suffix %q", len(got), got[len(got)-5:])
	}
	if !strings.HasSuffix(strings.TrimSuffix(got, "..."), "é") {
		t.Error("truncate cut inside a rune")
	}
	if truncate("short") != "short" {
		t.Error("truncate changed a short message")
	}
}
