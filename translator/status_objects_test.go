package translator

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// ignoreVDConditions lets the tests of the legacy state and message
// ignore the conditions they are derived from (checked here).
var ignoreVDConditions = cmpopts.IgnoreFields(VirtualDestinationStatus{}, "Conditions")

// condLines renders conditions as "Type=Status/Reason: message".
func condLines(conds []metav1.Condition) []string {
	var out []string
	for _, c := range conds {
		out = append(out, fmt.Sprintf("%s=%s/%s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	return out
}

// statusOf finds one object's conditions, state and message in rep by
// "Kind namespace/name" ("Workspace name" for workspaces).
func statusOf(t *testing.T, rep *StatusReport, object string) (conds []metav1.Condition, state, message string, attached []v1alpha1.DestinationReference) {
	t.Helper()
	for _, st := range rep.VirtualDestinations {
		if object == "VirtualDestination "+st.Namespace+"/"+st.Name {
			return st.Conditions, st.State, st.Message, nil
		}
	}
	for _, st := range rep.ExternalServices {
		if object == "ExternalService "+st.Namespace+"/"+st.Name {
			return st.Conditions, st.State, st.Message, nil
		}
	}
	for _, st := range rep.Workspaces {
		if object == "Workspace "+st.Name {
			return st.Conditions, st.State, st.Message, nil
		}
	}
	for kind, list := range map[string][]PolicyStatus{"FailoverPolicy": rep.FailoverPolicies, "OutlierDetectionPolicy": rep.OutlierDetectionPolicies} {
		for _, st := range list {
			if object == kind+" "+st.Namespace+"/"+st.Name {
				return st.Conditions, st.State, st.Message, st.AttachedTo
			}
		}
	}
	t.Fatalf("no status for %s", object)
	return nil, "", "", nil
}

const (
	esDoc = `apiVersion: networking.causeway.dev/v1alpha1
kind: ExternalService
metadata: {name: %s, namespace: bookinfo, creationTimestamp: "%s"}
spec: {hosts: [%s], ports: [{number: %s, name: http}], endpoints: [%s]}`
	fpDoc = `apiVersion: networking.causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: {name: %s, namespace: bookinfo, creationTimestamp: "%s"}
spec: {applyToDestinations: [{selector: {name: %s}}], config: %s}`
	odpDoc = `apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: %s, namespace: bookinfo}
spec: {applyToDestinations: [{selector: {name: %s}}], config: %s}`
	vdDoc = `apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: %s, namespace: bookinfo}
spec: {hosts: [%s], ports: [{number: 9080}], %s}`
)

func TestStatusConditions(t *testing.T) {
	const mapping = "{localityMappings: [{from: {region: us-east}, to: [{region: us-west}]}]}"
	for _, tc := range []struct {
		name   string
		docs   []string
		object string
		want   []string
		// wantState is "STATE: message" of the legacy fields.
		wantState    string
		wantAttached []v1alpha1.DestinationReference
		// breaks, when set, makes the parsed world invalid in a way the file
		// parser (and the API server) would refuse: what an older CRD or a
		// hand-built snapshot can still bring.
		breaks func(*model.Snapshot)
	}{{
		name:   "VirtualDestination accepted",
		object: "VirtualDestination bookinfo/reviews",
		want: []string{
			"Accepted=True/Accepted: serves 1 of 1 host:port(s)",
			"Conflicted=False/NoConflicts: owns every host:port it names",
			"ResolvedRefs=True/ResolvedRefs: selects 2 Service(s) in cluster-1, cluster-2",
		},
		wantState: "ACCEPTED: selects 2 Service(s) in cluster-1, cluster-2",
	}, {
		name:   "VirtualDestination with no backends",
		docs:   []string{fmt.Sprintf(vdDoc, "ratings", "ratings.mesh.internal.com", "services: [{labels: {app: ratings}}]")},
		object: "VirtualDestination bookinfo/ratings",
		want: []string{
			"Accepted=True/Accepted: serves 1 of 1 host:port(s)",
			"Conflicted=False/NoConflicts: owns every host:port it names",
			"ResolvedRefs=False/NoBackends: spec.services: selects no Service; its clusters have no endpoints",
		},
		wantState: "WARNING: spec.services: selects no Service; its clusters have no endpoints",
	}, {
		name: "VirtualDestination backed by an ExternalService only",
		docs: []string{fmt.Sprintf(vdDoc, "ext", "ext.mesh.internal.com", "externalServices: [{name: db}]"),
			fmt.Sprintf(esDoc, "db", "2024-01-01T00:00:00Z", "db.example.com", "5432", "{address: 10.0.0.1}")},
		object: "VirtualDestination bookinfo/ext",
		want: []string{
			"Accepted=True/Accepted: serves 1 of 1 host:port(s)",
			"Conflicted=False/NoConflicts: owns every host:port it names",
			"ResolvedRefs=True/ResolvedRefs: selects 1 ExternalService(s)",
		},
		wantState: "ACCEPTED: selects 1 ExternalService(s)",
	}, {
		name:   "VirtualDestination losing its only host:port",
		docs:   []string{fmt.Sprintf(vdDoc, "reviews-copy", "reviews.mesh.internal.com", "services: [{labels: {app: reviews}}]")},
		object: "VirtualDestination bookinfo/reviews-copy",
		want: []string{
			"Accepted=False/Conflicted: spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by VirtualDestination bookinfo/reviews; ignored here",
			"Conflicted=True/Conflicted: spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by VirtualDestination bookinfo/reviews; ignored here",
			"ResolvedRefs=True/ResolvedRefs: selects 2 Service(s) in cluster-1, cluster-2",
		},
		wantState: "INVALID: spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by VirtualDestination bookinfo/reviews; ignored here",
	}, {
		name:   "VirtualDestination losing one of two hosts",
		docs:   []string{fmt.Sprintf(vdDoc, "reviews-more", "reviews.mesh.internal.com, reviews.global", "services: [{labels: {app: reviews}}]")},
		object: "VirtualDestination bookinfo/reviews-more",
		want: []string{
			"Accepted=True/Accepted: serves 1 of 2 host:port(s)",
			"Conflicted=True/Conflicted: spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by VirtualDestination bookinfo/reviews; ignored here",
			"ResolvedRefs=True/ResolvedRefs: selects 2 Service(s) in cluster-1, cluster-2",
		},
		wantState: "WARNING: spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by VirtualDestination bookinfo/reviews; ignored here",
	}, {
		name:   "VirtualDestination in no workspace",
		docs:   []string{wsDoc("team-a", "[{name: team-a}, {name: gloo-system}]", "")},
		object: "VirtualDestination bookinfo/reviews",
		want: []string{
			"Accepted=False/NotInWorkspace: metadata.namespace: namespace bookinfo is in no Workspace (workspaces: [team-a]); the object is ignored",
		},
		wantState: "INVALID: metadata.namespace: namespace bookinfo is in no Workspace (workspaces: [team-a]); the object is ignored",
	}, {
		name:   "ExternalService accepted",
		docs:   []string{fmt.Sprintf(esDoc, "db", "2024-01-01T00:00:00Z", "db.example.com", "5432", "{address: 10.0.0.1}, {address: db-2.example.com}")},
		object: "ExternalService bookinfo/db",
		want: []string{
			"Accepted=True/Accepted: serves 1 host:port(s) with 2 endpoint(s)",
			"Conflicted=False/NoConflicts: owns every host:port it names",
		},
		wantState: "ACCEPTED: serves 1 host:port(s) with 2 endpoint(s)",
	}, {
		name:   "ExternalService with an unusable endpoint",
		docs:   []string{fmt.Sprintf(esDoc, "db", "2024-01-01T00:00:00Z", "db.example.com", "5432", "{address: 10.0.0.1}, {address: 10.0.0.2}")},
		breaks: func(w *model.Snapshot) { w.ExternalServices()[0].Spec.Endpoints[1].Address = "not an address" },
		object: "ExternalService bookinfo/db",
		want: []string{
			`Accepted=True/PartiallyInvalid: spec.endpoints[1].address: "not an address" is neither an IP address nor a DNS name; endpoint ignored; the rest is in use`,
			"Conflicted=False/NoConflicts: owns every host:port it names",
		},
		wantState: `WARNING: spec.endpoints[1].address: "not an address" is neither an IP address nor a DNS name; endpoint ignored; the rest is in use`,
	}, {
		name:   "ExternalService with no usable port",
		docs:   []string{fmt.Sprintf(esDoc, "db", "2024-01-01T00:00:00Z", "db.example.com", "5432", "{address: 10.0.0.1}")},
		breaks: func(w *model.Snapshot) { w.ExternalServices()[0].Spec.Ports[0].Number = 70000 },
		object: "ExternalService bookinfo/db",
		want: []string{
			"Accepted=False/Invalid: spec.ports[0].number: port 70000 is outside 1..65535; port ignored; spec.hosts, spec.ports, spec.endpoints: at least one host, one usable port and one usable endpoint are required",
			"Conflicted=False/NoConflicts: owns every host:port it names",
		},
		wantState: "INVALID: spec.ports[0].number: port 70000 is outside 1..65535; port ignored; spec.hosts, spec.ports, spec.endpoints: at least one host, one usable port and one usable endpoint are required",
	}, {
		// The VirtualDestination has no timestamp: an ExternalService with one is older.
		name:   "ExternalService losing to an older VirtualDestination",
		docs:   []string{fmt.Sprintf(esDoc, "db", "2024-01-01T00:00:00Z", "reviews.mesh.internal.com", "9080", "{address: 10.0.0.1}")},
		object: "VirtualDestination bookinfo/reviews",
		want: []string{
			"Accepted=False/Conflicted: spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by ExternalService bookinfo/db; ignored here",
			"Conflicted=True/Conflicted: spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by ExternalService bookinfo/db; ignored here",
			"ResolvedRefs=True/ResolvedRefs: selects 2 Service(s) in cluster-1, cluster-2",
		},
		wantState: "INVALID: spec.hosts[0]: reviews.mesh.internal.com port 9080 is already defined by ExternalService bookinfo/db; ignored here",
	}, {
		name:   "FailoverPolicy attached",
		docs:   []string{fmt.Sprintf(fpDoc, "west", "2024-01-01T00:00:00Z", "reviews", mapping)},
		object: "FailoverPolicy bookinfo/west",
		want: []string{
			"Accepted=True/Accepted: applies to 1 VirtualDestination(s)",
			"Conflicted=False/NoConflicts: no other FailoverPolicy applies to the VirtualDestinations it selects",
		},
		wantState:    "ACCEPTED: applies to 1 VirtualDestination(s)",
		wantAttached: []v1alpha1.DestinationReference{{Namespace: "bookinfo", Name: "reviews"}},
	}, {
		name: "FailoverPolicy losing to an older one",
		docs: []string{fmt.Sprintf(fpDoc, "a-newer", "2024-06-01T00:00:00Z", "reviews", mapping),
			fmt.Sprintf(fpDoc, "z-older", "2024-01-01T00:00:00Z", "reviews", mapping)},
		object: "FailoverPolicy bookinfo/a-newer",
		want: []string{
			"Accepted=False/Conflicted: applies to no VirtualDestination: VirtualDestination bookinfo/reviews: the older FailoverPolicy bookinfo/z-older applies (one FailoverPolicy per VirtualDestination)",
			"Conflicted=True/Conflicted: VirtualDestination bookinfo/reviews: the older FailoverPolicy bookinfo/z-older applies (one FailoverPolicy per VirtualDestination)",
		},
		wantState: "INVALID: applies to no VirtualDestination: VirtualDestination bookinfo/reviews: the older FailoverPolicy bookinfo/z-older applies (one FailoverPolicy per VirtualDestination)",
	}, {
		name: "FailoverPolicy winning on one destination, losing on another",
		docs: []string{fmt.Sprintf(vdDoc, "ratings", "ratings.mesh.internal.com", "services: [{labels: {app: reviews}}]"),
			strings.Replace(fmt.Sprintf(fpDoc, "both", "2024-06-01T00:00:00Z", "reviews", mapping), "[{selector: {name: reviews}}]", "[{selector: {name: reviews}}, {selector: {name: ratings}}]", 1),
			fmt.Sprintf(fpDoc, "older", "2024-01-01T00:00:00Z", "reviews", mapping)},
		object: "FailoverPolicy bookinfo/both",
		want: []string{
			"Accepted=True/Accepted: applies to 1 VirtualDestination(s)",
			"Conflicted=True/Conflicted: VirtualDestination bookinfo/reviews: the older FailoverPolicy bookinfo/older applies (one FailoverPolicy per VirtualDestination)",
		},
		wantState:    "WARNING: VirtualDestination bookinfo/reviews: the older FailoverPolicy bookinfo/older applies (one FailoverPolicy per VirtualDestination)",
		wantAttached: []v1alpha1.DestinationReference{{Namespace: "bookinfo", Name: "ratings"}},
	}, {
		name:   "FailoverPolicy selecting nothing",
		docs:   []string{fmt.Sprintf(fpDoc, "west", "2024-01-01T00:00:00Z", "nothing", mapping)},
		object: "FailoverPolicy bookinfo/west",
		want: []string{
			"Accepted=False/TargetNotFound: spec.applyToDestinations: selects no VirtualDestination",
			"Conflicted=False/NoConflicts: no other FailoverPolicy applies to the VirtualDestinations it selects",
		},
		wantState: "INVALID: spec.applyToDestinations: selects no VirtualDestination",
	}, {
		name:   "FailoverPolicy with an ignored target",
		docs:   []string{fmt.Sprintf(fpDoc, "west", "2024-01-01T00:00:00Z", "reviews", "{localityMappings: [{from: {region: us-east}, to: [{region: us-west}, {region: eu-west}]}]}")},
		breaks: func(w *model.Snapshot) { w.FailoverPolicies()[0].Spec.Config.LocalityMappings[0].To[1].Region = "" },
		object: "FailoverPolicy bookinfo/west",
		want: []string{
			"Accepted=True/PartiallyInvalid: spec.config.localityMappings[0].to[1].region: region is required; target ignored; the rest is in use",
			"Conflicted=False/NoConflicts: no other FailoverPolicy applies to the VirtualDestinations it selects",
		},
		wantState:    "WARNING: spec.config.localityMappings[0].to[1].region: region is required; target ignored; the rest is in use",
		wantAttached: []v1alpha1.DestinationReference{{Namespace: "bookinfo", Name: "reviews"}},
	}, {
		name:   "OutlierDetectionPolicy with a value out of range",
		docs:   []string{fmt.Sprintf(odpDoc, "eject", "reviews", "{maxEjectionPercent: 50}")},
		breaks: func(w *model.Snapshot) { *w.OutlierDetectionPolicies()[0].Spec.Config.MaxEjectionPercent = 150 },
		object: "OutlierDetectionPolicy bookinfo/eject",
		want: []string{
			"Accepted=True/PartiallyInvalid: spec.config.maxEjectionPercent: 150 is outside 0..100; using 100; the rest is in use",
			"Conflicted=False/NoConflicts: no other OutlierDetectionPolicy applies to the VirtualDestinations it selects",
		},
		wantState:    "WARNING: spec.config.maxEjectionPercent: 150 is outside 0..100; using 100; the rest is in use",
		wantAttached: []v1alpha1.DestinationReference{{Namespace: "bookinfo", Name: "reviews"}},
	}, {
		name:   "OutlierDetectionPolicy in no workspace",
		docs:   []string{wsDoc("team-a", "[{name: team-a}]", ""), fmt.Sprintf(odpDoc, "eject", "reviews", "{}")},
		object: "OutlierDetectionPolicy bookinfo/eject",
		want: []string{
			"Accepted=False/NotInWorkspace: metadata.namespace: namespace bookinfo is in no Workspace (workspaces: [team-a]); the object is ignored",
		},
		wantState: "INVALID: metadata.namespace: namespace bookinfo is in no Workspace (workspaces: [team-a]); the object is ignored",
	}, {
		name:   "Workspace accepted, importing one that does not exist",
		docs:   []string{wsDoc("team-a", "[{name: bookinfo}, {name: gloo-system}]", "  importFrom: [{name: team-z}]\n")},
		object: "Workspace team-a",
		want: []string{
			"Accepted=True/Accepted: holds 2 cluster/namespace pattern(s)",
			"Conflicted=False/NoConflicts: no earlier Workspace holds its namespaces",
			"ResolvedRefs=False/NotFound: spec.importFrom[0]: no Workspace named team-z",
		},
		wantState: "WARNING: spec.importFrom[0]: no Workspace named team-z",
	}, {
		name:   "Workspace whose namespaces an earlier one holds",
		docs:   []string{wsDoc("a-all", `[{name: "*"}]`, ""), wsDoc("b-team", "[{name: bookinfo}]", "")},
		object: "Workspace b-team",
		want: []string{
			"Accepted=False/Conflicted: cluster * namespace bookinfo is already in Workspace a-all (the first by name wins); it adds nothing here",
			"Conflicted=True/Conflicted: cluster * namespace bookinfo is already in Workspace a-all (the first by name wins); it adds nothing here",
			"ResolvedRefs=True/ResolvedRefs: every importFrom and exportTo entry names a Workspace",
		},
		wantState: "INVALID: cluster * namespace bookinfo is already in Workspace a-all (the first by name wins); it adds nothing here",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			w := parseWorld(t, append([]string{statusWorld}, tc.docs...)...)
			if tc.breaks != nil {
				tc.breaks(w)
			}
			rep := Statuses(w)
			conds, state, msg, attached := statusOf(t, rep, tc.object)
			if diff := cmp.Diff(tc.want, condLines(conds)); diff != "" {
				t.Errorf("%s conditions (-want +got):\n%s", tc.object, diff)
			}
			if got := state + ": " + msg; got != tc.wantState {
				t.Errorf("%s state:\n got %s\nwant %s", tc.object, got, tc.wantState)
			}
			if diff := cmp.Diff(tc.wantAttached, attached); diff != "" {
				t.Errorf("%s attachedTo (-want +got):\n%s", tc.object, diff)
			}
		})
	}
}

// TestStatusConditionsBounded: a policy losing on many destinations lists
// a bounded number of them.
func TestStatusConditionsBounded(t *testing.T) {
	docs := []string{statusWorld}
	for i := range 12 {
		docs = append(docs, fmt.Sprintf(vdDoc, fmt.Sprintf("vd-%02d", i), fmt.Sprintf("h%02d.mesh.internal.com", i), "services: [{labels: {app: reviews, tier: t}}]"))
	}
	sel := "[{selector: {labels: {}}}]"
	const labels = "{priorityLabels: {labels: [topology.kubernetes.io/zone]}}"
	docs = append(docs, strings.Replace(fmt.Sprintf(fpDoc, "newer", "2024-06-01T00:00:00Z", "x", labels), "[{selector: {name: x}}]", sel, 1),
		strings.Replace(fmt.Sprintf(fpDoc, "older", "2024-01-01T00:00:00Z", "x", labels), "[{selector: {name: x}}]", sel, 1))
	rep := Statuses(parseWorld(t, docs...))
	conds, _, _, _ := statusOf(t, rep, "FailoverPolicy bookinfo/newer")
	msg := conds[1].Message
	if n := strings.Count(msg, "the older FailoverPolicy"); n != maxListed || !strings.HasSuffix(msg, "; and 5 more") {
		t.Errorf("Conflicted message lists %d conflicts, want %d and \"and 5 more\" (13 VirtualDestinations): %s", n, maxListed, msg)
	}
	_, _, _, attached := statusOf(t, rep, "FailoverPolicy bookinfo/older")
	if len(attached) != 13 {
		t.Errorf("older attaches to %d VirtualDestinations, want 13", len(attached))
	}
}
