package file

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// TestLoadPolicies reads one document of each policy kind and checks they
// reach the model with defaults applied (namespace; federation suffix).
func TestLoadPolicies(t *testing.T) {
	snap, err := Load("testdata/policies.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	wantES := []*model.ExternalService{{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.causeway.dev/v1alpha1", Kind: "ExternalService"},
		ObjectMeta: metav1.ObjectMeta{Name: "ratings-vm", Namespace: "bookinfo", Labels: map[string]string{"app": "ratings"}},
		Spec: v1alpha1.ExternalServiceSpec{
			Hosts: []string{"ratings.vm.example.com"},
			Ports: []v1alpha1.ExternalServicePort{{Number: 9080, Name: "http", Protocol: "HTTP"}},
			Endpoints: []v1alpha1.ExternalEndpoint{
				{Address: "192.0.2.10", Ports: map[string]int32{"http": 8080},
					Locality: &v1alpha1.Locality{Region: "us-east", Zone: "us-east-1a"}, Labels: map[string]string{"version": "v1"}},
				{Address: "ratings-2.vm.example.com"},
			},
		},
	}}
	wantFP := []*model.FailoverPolicy{{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.causeway.dev/v1alpha1", Kind: "FailoverPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "failover", Namespace: "bookinfo",
			CreationTimestamp: metav1.NewTime(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))},
		Spec: v1alpha1.FailoverPolicySpec{
			ApplyToDestinations: []v1alpha1.DestinationSelector{{Selector: v1alpha1.ObjectSelector{Labels: map[string]string{"failover": "true"}}}},
			Config: v1alpha1.FailoverConfig{LocalityMappings: []v1alpha1.LocalityMapping{{
				From: v1alpha1.Locality{Region: "us-east"},
				To:   []v1alpha1.WeightedLocality{{Region: "eu-west", Weight: 2}, {Region: "us-west"}},
			}}},
		},
	}}
	three := int32(3)
	wantODP := []*model.OutlierDetectionPolicy{{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.causeway.dev/v1alpha1", Kind: "OutlierDetectionPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "outliers", Namespace: "default"},
		Spec: v1alpha1.OutlierDetectionPolicySpec{
			ApplyToDestinations: []v1alpha1.DestinationSelector{{Selector: v1alpha1.ObjectSelector{Name: "reviews", Namespace: "bookinfo"}}},
			Config:              v1alpha1.OutlierDetectionConfig{ConsecutiveErrors: &three, Interval: &metav1.Duration{Duration: 5 * time.Second}},
		},
	}}
	wantWS := []model.Workspace{
		{
			Name:       "shared",
			Namespaces: []model.WorkspaceNamespace{{Cluster: "*", Namespace: "shared"}},
			ExportTo:   []string{"team-a"},
		},
		{
			Name: "team-a",
			Namespaces: []model.WorkspaceNamespace{
				{Cluster: "*", Namespace: "bookinfo"}, {Cluster: "*", Namespace: "default"}, {Cluster: "cluster-2", Namespace: "*"},
			},
			ImportFrom: []string{"shared"}, ExportTo: []string{"*"},
			Federation: &model.Federation{HostSuffix: "global", Selectors: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}}},
		},
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"external services", snap.ExternalServices(), wantES},
		{"failover policies", snap.FailoverPolicies(), wantFP},
		{"outlier policies", snap.OutlierDetectionPolicies(), wantODP},
		{"workspaces", snap.Workspaces(), wantWS},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", c.name, diff)
		}
	}
}

func doc(kind, meta, spec string) string {
	return "apiVersion: networking.causeway.dev/v1alpha1\nkind: " + kind + "\nmetadata: " + meta + "\nspec:\n" + spec
}

// TestParsePolicyErrors: the new kinds and VirtualDestination fields are
// checked as their CRDs check them, each error naming document and field.
func TestParsePolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		docs []string
		want []string
	}{
		{
			name: "vd subsets",
			docs: []string{vd(okVDSpec + "  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v1, labels: {}}\n  - {name: V_2, labels: {a: b}}\n")},
			want: []string{
				"document 1 (VirtualDestination bookinfo/reviews): spec.subsets[1].name: duplicate subset \"v1\"",
				"spec.subsets[1].labels: at least one label is required",
				"spec.subsets[2].name: \"V_2\" is not a valid subset name",
			},
		},
		{
			name: "vd subset strict",
			docs: []string{vd(okVDSpec + "  subsets: [{name: v1, label: {version: v1}}]\n")},
			want: []string{`document 1 (VirtualDestination bookinfo/reviews): unknown field "spec.subsets[0].label"`},
		},
		{
			name: "vd external service selector has no cluster",
			docs: []string{vd(okVDSpec + "  externalServices: [{cluster: c1}]\n")},
			want: []string{`unknown field "spec.externalServices[0].cluster"`},
		},
		{
			name: "vd checks shared with discovery/kube",
			docs: []string{vd("  hosts: [a.b, a.b]\n  ports: [{number: 80, protocol: UDP}, {number: 81, targetPort: {name: Not_A_Port}}]\n  services: [{name: x}]\n")},
			want: []string{
				"document 1 (VirtualDestination bookinfo/reviews): spec.hosts[1]: duplicate host \"a.b\"",
				"spec.ports[0].protocol: \"UDP\" is not supported (use HTTP, HTTP2, GRPC or H2C)",
				"spec.ports[1].targetPort.name: \"Not_A_Port\" is not a valid port name",
			},
		},
		{
			name: "vd creation timestamp",
			docs: []string{"apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: r, creationTimestamp: yesterday}\nspec:\n" + okVDSpec},
			want: []string{`document 1 (VirtualDestination default/r): metadata.creationTimestamp: "yesterday" is not an RFC 3339 time`},
		},
		{
			name: "external service",
			docs: []string{doc("ExternalService", "{name: vm, namespace: ns}", `  hosts: ["*.example.com"]
  ports: [{number: 0, name: http}, {number: 80, name: http, protocol: TCP}]
  endpoints: [{address: "not an address", ports: {grpc: 8080}, locality: {zone: z}}]
`)},
			want: []string{
				"document 1 (ExternalService ns/vm): spec.hosts[0]: \"*.example.com\" is not a valid hostname",
				"spec.ports[0].number: must be 1-65535, got 0",
				"spec.ports[1].name: duplicate port name \"http\"",
				"spec.ports[1].protocol: \"TCP\" is not supported",
				"spec.endpoints[0].address: \"not an address\" is not a valid IP address or DNS name",
				"spec.endpoints[0].ports[grpc]: names no port of spec.ports",
				"spec.endpoints[0].locality: zone requires region",
			},
		},
		{
			name: "external service strict",
			docs: []string{doc("ExternalService", "{name: vm}", "  hosts: [a.example.com]\n  ports: [{number: 80, name: http}]\n  endpoint: []\n")},
			want: []string{`document 1 (ExternalService default/vm): unknown field "spec.endpoint"`},
		},
		{
			name: "failover policy",
			docs: []string{doc("FailoverPolicy", "{name: fp, namespace: ns}", `  applyToDestinations: []
  config:
    localityMappings: [{from: {zone: z}, to: [{subZone: s, weight: 2000000}]}]
`), doc("FailoverPolicy", "{name: empty}", "  applyToDestinations: [{selector: {}}]\n  config: {}\n")},
			want: []string{
				"document 1 (FailoverPolicy ns/fp): spec.applyToDestinations: at least one selector is required",
				"spec.config.localityMappings[0].from.region: is required",
				"spec.config.localityMappings[0].to[0].region: is required",
				"spec.config.localityMappings[0].to[0]: subZone requires zone",
				"spec.config.localityMappings[0].to[0].weight: must be 1-1000000",
				"document 2 (FailoverPolicy default/empty): spec.config: set localityMappings or priorityLabels",
			},
		},
		{
			name: "outlier detection policy",
			docs: []string{doc("OutlierDetectionPolicy", "{name: odp}", `  applyToDestinations: [{selector: {name: r}}]
  config: {consecutiveErrors: 0, interval: 0s, baseEjectionTime: -1s, maxEjectionPercent: 101}
`)},
			want: []string{
				"document 1 (OutlierDetectionPolicy default/odp): spec.config.consecutiveErrors: must be at least 1, got 0",
				"spec.config.interval: must be positive",
				"spec.config.baseEjectionTime: must be positive",
				"spec.config.maxEjectionPercent: must be 0-100, got 101",
			},
		},
		{
			name: "outlier detection policy bad duration",
			docs: []string{doc("OutlierDetectionPolicy", "{name: odp}", "  applyToDestinations: [{selector: {}}]\n  config: {interval: soon}\n")},
			want: []string{"document 1 (OutlierDetectionPolicy default/odp):", "soon"},
		},
		{
			name: "workspace",
			docs: []string{doc("Workspace", "{name: ws, namespace: ns}", `  workloadClusters: [{name: "", namespaces: [{name: Bad_NS}]}, {name: c, namespaces: []}]
  importFrom: [{name: ""}]
  federation: {enabled: true, hostSuffix: "-x-"}
`), doc("Workspace", "{name: empty}", "  {}\n")},
			want: []string{
				"document 1 (Workspace ws): metadata.namespace: Workspace is cluster-scoped",
				"spec.workloadClusters[0].name: is required",
				"spec.workloadClusters[0].namespaces[0].name: \"Bad_NS\" is not a valid namespace",
				"spec.workloadClusters[1].namespaces: at least one namespace is required",
				"spec.importFrom[0].name: is required",
				"spec.federation.hostSuffix: \"-x-\" is not a valid host suffix",
				"document 2 (Workspace empty): spec.workloadClusters: at least one cluster is required",
			},
		},
		{
			name: "duplicates",
			docs: []string{
				doc("Workspace", "{name: ws}", "  workloadClusters: [{name: '*', namespaces: [{name: '*'}]}]\n"),
				doc("Workspace", "{name: ws}", "  workloadClusters: [{name: '*', namespaces: [{name: '*'}]}]\n"),
				doc("OutlierDetectionPolicy", "{name: o}", "  applyToDestinations: [{selector: {}}]\n"),
				doc("OutlierDetectionPolicy", "{name: o, namespace: default}", "  applyToDestinations: [{selector: {}}]\n"),
			},
			want: []string{
				"document 2 (Workspace ws): metadata.name: duplicate Workspace ws, first defined in document 1",
				"document 4 (OutlierDetectionPolicy default/o): metadata.name: duplicate OutlierDetectionPolicy default/o, first defined in document 3",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := Parse("world.yaml", []byte(strings.Join(tc.docs, "---\n")))
			if err == nil {
				t.Fatalf("Parse succeeded (%d workspaces), want error", len(snap.Workspaces()))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q; got:\n%v", w, err)
				}
			}
		})
	}
}

// TestParseAge: without timestamps document order decides; a timestamp
// beats document order, as model.Age.OlderThan defines.
func TestParseAge(t *testing.T) {
	data := strings.Join([]string{
		"apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: first}\nspec:\n" + okVDSpec,
		"apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: second}\nspec:\n" + okVDSpec,
		"apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: stamped, creationTimestamp: '2020-01-01T00:00:00Z'}\nspec:\n" + okVDSpec,
		// An external-only VirtualDestination is valid.
		"apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: external}\nspec:\n  hosts: [a.example.com]\n  ports: [{number: 80}]\n  externalServices: [{name: vm}]\n",
	}, "---\n")
	snap, err := Parse("world.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	ages := map[string]model.Age{}
	for _, vd := range snap.VirtualDestinations() {
		ages[vd.Name] = vd.Age
	}
	if len(ages) != 4 {
		t.Fatalf("got %d VirtualDestinations, want 4", len(ages))
	}
	for _, c := range []struct{ older, newer string }{{"first", "second"}, {"stamped", "first"}, {"second", "external"}} {
		if !ages[c.older].OlderThan(ages[c.newer]) || ages[c.newer].OlderThan(ages[c.older]) {
			t.Errorf("%s (%+v) should be older than %s (%+v)", c.older, ages[c.older], c.newer, ages[c.newer])
		}
	}
}
