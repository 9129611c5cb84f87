package v1alpha1_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/v1alpha1"
)

// seedVirtualDestination is the VirtualDestination of the product document
// users follow (reviews-vd), with Causeway's apiVersion.
const seedVirtualDestination = `
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata:
  name: reviews-vd
  namespace: bookinfo
spec:
  hosts:
  # Arbitrary, internal-only hostname assigned to the endpoint
  - reviews.mesh.internal.com
  ports:
  - number: 9080
    protocol: HTTP
  services:
    - labels:
        app: reviews
`

func ptr[T any](v T) *T { return &v }

// TestDecodeSeed decodes the document's YAML through a scheme-based decoder,
// as clients do, and checks every field landed where users expect.
func TestDecodeSeed(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	obj, gvk, err := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer().
		Decode([]byte(seedVirtualDestination), nil, nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if gvk.GroupVersion() != v1alpha1.SchemeGroupVersion || gvk.Kind != "VirtualDestination" {
		t.Errorf("decoded kind %v", gvk)
	}
	got, ok := obj.(*v1alpha1.VirtualDestination)
	if !ok {
		t.Fatalf("decoded %T, want *VirtualDestination", obj)
	}
	want := v1alpha1.VirtualDestinationSpec{
		Hosts:    []string{"reviews.mesh.internal.com"},
		Ports:    []v1alpha1.VirtualDestinationPort{{Number: 9080, Protocol: "HTTP"}},
		Services: []v1alpha1.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
	}
	if diff := cmp.Diff(want, got.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
	if got.Namespace != "bookinfo" || got.Name != "reviews-vd" {
		t.Errorf("metadata = %s/%s", got.Namespace, got.Name)
	}
}

// TestRoundTrip reads YAML that sets every field, checks a few typed values
// (so a wrong json tag cannot hide behind symmetric marshalling), writes it
// back and requires the same document: every user-facing name survives.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		into  func() any
		check func(t *testing.T, obj any)
	}{
		{
			name: "VirtualDestination",
			yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews-vd, namespace: bookinfo, generation: 3, labels: {failover: "true"}}
spec:
  hosts: [reviews.mesh.internal.com]
  ports:
  - {number: 9080, protocol: HTTP, targetPort: {name: http}}
  - {number: 9443, protocol: GRPC, targetPort: {number: 8443}}
  services:
  - {labels: {app: reviews}, name: reviews, namespace: bookinfo, cluster: cluster-1}
  externalServices:
  - {labels: {app: reviews}, name: reviews-vm, namespace: bookinfo}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: east, labels: {causeway.dev/cluster: cluster-1, version: v2}}
  trafficDistribution: PreferClose
status:
  state: WARNING
  message: no service in cluster-2
  selectedServices: 2
  clusters: [cluster-1]
  observedGeneration: 3
`,
			into: func() any { return &v1alpha1.VirtualDestination{} },
			check: func(t *testing.T, obj any) {
				vd := obj.(*v1alpha1.VirtualDestination)
				want := v1alpha1.VirtualDestinationPort{Number: 9080, Protocol: "HTTP", TargetPort: &v1alpha1.TargetPort{Name: "http"}}
				if diff := cmp.Diff(want, vd.Spec.Ports[0]); diff != "" {
					t.Errorf("ports[0] (-want +got):\n%s", diff)
				}
				wantSubsets := []v1alpha1.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}},
					{Name: "east", Labels: map[string]string{"causeway.dev/cluster": "cluster-1", "version": "v2"}}}
				if diff := cmp.Diff(wantSubsets, vd.Spec.Subsets); diff != "" {
					t.Errorf("subsets (-want +got):\n%s", diff)
				}
				if vd.Labels["failover"] != "true" {
					t.Errorf("labels = %v", vd.Labels)
				}
				if vd.Spec.Services[0].Cluster != "cluster-1" || vd.Spec.TrafficDistribution != v1alpha1.TrafficDistributionPreferClose {
					t.Errorf("spec = %+v", vd.Spec)
				}
				wantStatus := v1alpha1.VirtualDestinationStatus{State: v1alpha1.StateWarning, Message: "no service in cluster-2",
					SelectedServices: 2, Clusters: []string{"cluster-1"}, ObservedGeneration: 3}
				if diff := cmp.Diff(wantStatus, vd.Status); diff != "" {
					t.Errorf("status (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "ExternalService",
			yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: ExternalService
metadata: {name: ratings-vm, namespace: bookinfo}
spec:
  hosts: [ratings.vm.example.com]
  ports: [{number: 9080, name: http, protocol: HTTP}]
  endpoints:
  - address: 192.0.2.10
    ports: {http: 8080}
    locality: {region: us-east, zone: us-east-1a, subZone: rack-1}
    labels: {version: v1}
  - address: ratings-2.vm.example.com
status: {state: ACCEPTED, message: ok}
`,
			into: func() any { return &v1alpha1.ExternalService{} },
			check: func(t *testing.T, obj any) {
				es := obj.(*v1alpha1.ExternalService)
				want := v1alpha1.ExternalEndpoint{Address: "192.0.2.10", Ports: map[string]int32{"http": 8080},
					Locality: &v1alpha1.Locality{Region: "us-east", Zone: "us-east-1a", SubZone: "rack-1"},
					Labels:   map[string]string{"version": "v1"}}
				if diff := cmp.Diff(want, es.Spec.Endpoints[0]); diff != "" {
					t.Errorf("endpoints[0] (-want +got):\n%s", diff)
				}
				if es.Spec.Ports[0].Name != "http" || es.Status.State != v1alpha1.StateAccepted {
					t.Errorf("object = %+v", es)
				}
			},
		},
		{
			name: "FailoverPolicy",
			yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: {name: failover, namespace: bookinfo}
spec:
  applyToDestinations:
  - selector: {labels: {failover: "true"}, name: reviews-vd, namespace: bookinfo}
  config:
    localityMappings:
    - from: {region: us-east, zone: us-east-1a, subZone: rack-1}
      to:
      - {region: us-west, zone: us-west-1a, subZone: rack-2, weight: 80}
      - {region: eu-west, weight: 20}
    priorityLabels: {labels: [topology.kubernetes.io/region, version]}
status: {state: INVALID, message: "spec.config.localityMappings[0].to[0].region: unknown region"}
`,
			into: func() any { return &v1alpha1.FailoverPolicy{} },
			check: func(t *testing.T, obj any) {
				fp := obj.(*v1alpha1.FailoverPolicy)
				want := v1alpha1.LocalityMapping{
					From: v1alpha1.Locality{Region: "us-east", Zone: "us-east-1a", SubZone: "rack-1"},
					To: []v1alpha1.WeightedLocality{
						{Region: "us-west", Zone: "us-west-1a", SubZone: "rack-2", Weight: 80},
						{Region: "eu-west", Weight: 20},
					},
				}
				if diff := cmp.Diff(want, fp.Spec.Config.LocalityMappings[0]); diff != "" {
					t.Errorf("localityMappings[0] (-want +got):\n%s", diff)
				}
				if fp.Spec.ApplyToDestinations[0].Selector.Name != "reviews-vd" || len(fp.Spec.Config.PriorityLabels.Labels) != 2 {
					t.Errorf("spec = %+v", fp.Spec)
				}
			},
		},
		{
			name: "OutlierDetectionPolicy",
			yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: outliers, namespace: bookinfo}
spec:
  applyToDestinations:
  - selector: {name: reviews-vd}
  config: {consecutiveErrors: 3, interval: 5s, baseEjectionTime: 1m0s, maxEjectionPercent: 50}
status: {state: ACCEPTED}
`,
			into: func() any { return &v1alpha1.OutlierDetectionPolicy{} },
			check: func(t *testing.T, obj any) {
				c := &obj.(*v1alpha1.OutlierDetectionPolicy).Spec.Config
				got := []any{c.ConsecutiveErrorsOrDefault(), c.IntervalOrDefault(), c.BaseEjectionTimeOrDefault(), c.MaxEjectionPercentOrDefault()}
				want := []any{int32(3), 5 * time.Second, time.Minute, int32(50)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("config (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "Workspace",
			yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: Workspace
metadata: {name: team-a}
spec:
  workloadClusters:
  - name: "*"
    namespaces: [{name: bookinfo}, {name: team-a}]
  - name: cluster-2
    namespaces: [{name: "*"}]
  importFrom: [{name: shared}]
  exportTo: [{name: "*"}]
  federation:
    enabled: true
    hostSuffix: global
    serviceSelector: [{labels: {app: reviews}, name: reviews, namespace: bookinfo}]
status: {state: ACCEPTED, observedGeneration: 2}
`,
			into: func() any { return &v1alpha1.Workspace{} },
			check: func(t *testing.T, obj any) {
				ws := obj.(*v1alpha1.Workspace)
				want := v1alpha1.WorkspaceSpec{
					WorkloadClusters: []v1alpha1.WorkspaceCluster{
						{Name: "*", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "bookinfo"}, {Name: "team-a"}}},
						{Name: "cluster-2", Namespaces: []v1alpha1.WorkspaceNamespace{{Name: "*"}}},
					},
					ImportFrom: []v1alpha1.WorkspaceRef{{Name: "shared"}},
					ExportTo:   []v1alpha1.WorkspaceRef{{Name: "*"}},
					Federation: &v1alpha1.WorkspaceFederation{Enabled: true, HostSuffix: "global",
						ServiceSelector: []v1alpha1.ExternalServiceSelector{{Labels: map[string]string{"app": "reviews"}, Name: "reviews", Namespace: "bookinfo"}}},
				}
				if diff := cmp.Diff(want, ws.Spec); diff != "" {
					t.Errorf("spec (-want +got):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := tt.into()
			if err := yaml.UnmarshalStrict([]byte(tt.yaml), obj); err != nil {
				t.Fatalf("strict unmarshal: %v", err)
			}
			tt.check(t, obj)
			out, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			var want, got map[string]any
			if err := yaml.Unmarshal([]byte(tt.yaml), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			// creationTimestamp: null is how ObjectMeta marshals an unset time.
			delete(got["metadata"].(map[string]any), "creationTimestamp")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip changed the document (-in +out):\n%s", diff)
			}
		})
	}
}

// TestUnknownFieldRejected makes sure a misspelt field name is an error
// for strict readers (offline translate), not silently dropped.
func TestUnknownFieldRejected(t *testing.T) {
	const doc = `
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews-vd}
spec:
  hosts: [reviews.mesh.internal.com]
  port: [{number: 9080}]
`
	var vd v1alpha1.VirtualDestination
	err := yaml.UnmarshalStrict([]byte(doc), &vd)
	if err == nil {
		t.Fatal("misspelt spec.port was accepted")
	}
	if !strings.Contains(err.Error(), `"port"`) {
		t.Errorf("error %q does not name the field", err)
	}
}

// TestHostSuffixDefault: offline readers get the API server's default.
func TestHostSuffixDefault(t *testing.T) {
	for _, tt := range []struct {
		f    *v1alpha1.WorkspaceFederation
		want string
	}{{nil, "global"}, {&v1alpha1.WorkspaceFederation{Enabled: true}, "global"}, {&v1alpha1.WorkspaceFederation{HostSuffix: "mesh"}, "mesh"}} {
		if got := tt.f.HostSuffixOrDefault(); got != tt.want {
			t.Errorf("HostSuffixOrDefault(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// TestOutlierDefaults: unset fields (offline, no API server defaulting) give
// the documented defaults, maxEjectionPercent 100 rather than Envoy's 10.
func TestOutlierDefaults(t *testing.T) {
	for _, c := range []*v1alpha1.OutlierDetectionConfig{nil, {}} {
		got := []any{c.ConsecutiveErrorsOrDefault(), c.IntervalOrDefault(), c.BaseEjectionTimeOrDefault(), c.MaxEjectionPercentOrDefault()}
		want := []any{int32(5), 10 * time.Second, 30 * time.Second, int32(100)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("defaults of %v (-want +got):\n%s", c, diff)
		}
	}
	set := &v1alpha1.OutlierDetectionConfig{ConsecutiveErrors: ptr(int32(1)), Interval: &metav1.Duration{Duration: time.Second},
		BaseEjectionTime: &metav1.Duration{Duration: 2 * time.Second}, MaxEjectionPercent: ptr(int32(0))}
	got := []any{set.ConsecutiveErrorsOrDefault(), set.IntervalOrDefault(), set.BaseEjectionTimeOrDefault(), set.MaxEjectionPercentOrDefault()}
	want := []any{int32(1), time.Second, 2 * time.Second, int32(0)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("set values (-want +got):\n%s", diff)
	}
}
