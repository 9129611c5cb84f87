package crds_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

const testNamespace = "crd-admission"

// admissionCase is one object sent to a real kube-apiserver with the CRDs
// installed: it must be accepted (no wantErr) or rejected with an error
// containing every wantErr string (the field path and the rule's message).
type admissionCase struct {
	name    string
	yaml    string
	wantErr []string
}

// validVD is a VirtualDestination every rule accepts; cases change one thing.
const validVD = `
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: NAME}
spec:
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: reviews}}]
`

func vd(name, spec string) string {
	return "apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: " + name + "}\nspec:\n" + spec
}

var admissionCases = []admissionCase{
	{name: "valid", yaml: strings.Replace(validVD, "NAME", "valid", 1)},
	{name: "valid-full", yaml: vd("valid-full", `
  hosts: [reviews.mesh.internal.com, reviews]
  ports:
  - {number: 9080, protocol: HTTP, targetPort: {name: http}}
  - {number: 9090, protocol: GRPC, targetPort: {number: 8080}}
  services: [{labels: {app: reviews}, namespace: bookinfo, cluster: cluster-1}]
  externalServices: [{name: reviews-vm}]
  trafficDistribution: PreferClose
`)},
	{name: "valid-external-only", yaml: vd("valid-external-only", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}]
  externalServices: [{labels: {app: reviews}}]
`)},
	{name: "no-selector", yaml: vd("no-selector", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}]
`), wantErr: []string{"spec: Invalid value", "at least one of spec.services or spec.externalServices must select a backend"}},
	{name: "empty-selector-lists", yaml: vd("empty-selector-lists", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}]
  services: []
  externalServices: []
`), wantErr: []string{"at least one of spec.services or spec.externalServices must select a backend"}},
	{name: "selects-everything", yaml: vd("selects-everything", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}]
  services: [{cluster: cluster-1}, {}]
`), wantErr: []string{"spec.services[1]", "selects every Service in the mesh; give labels, name, namespace or cluster"}},
	{name: "selects-everything-empty-labels", yaml: vd("selects-everything-empty-labels", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}]
  services: [{labels: {}, name: ""}]
`), wantErr: []string{"spec.services[0]", "selects every Service in the mesh"}},
	{name: "bad-host", yaml: vd("bad-host", `
  hosts: [Reviews_Mesh]
  ports: [{number: 9080}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.hosts[0]", "should match"}},
	{name: "wildcard-host", yaml: vd("wildcard-host", `
  hosts: ["*.mesh.internal.com"]
  ports: [{number: 9080}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.hosts[0]", "should match"}},
	{name: "no-hosts", yaml: vd("no-hosts", `
  hosts: []
  ports: [{number: 9080}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.hosts", "should have at least 1 items"}},
	{name: "duplicate-host", yaml: vd("duplicate-host", `
  hosts: [a.example.com, a.example.com]
  ports: [{number: 9080}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.hosts[1]", "Duplicate value"}},
	{name: "port-70000", yaml: vd("port-70000", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 70000}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.ports[0].number", "less than or equal to 65535"}},
	{name: "port-0", yaml: vd("port-0", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 0}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.ports[0].number", "greater than or equal to 1"}},
	{name: "duplicate-port", yaml: vd("duplicate-port", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}, {number: 9080, protocol: GRPC}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.ports", "port numbers must be unique"}},
	{name: "target-port-both", yaml: vd("target-port-both", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080, targetPort: {number: 8080, name: http}}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.ports[0].targetPort", "exactly one of number or name must be set"}},
	{name: "target-port-neither", yaml: vd("target-port-neither", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080, targetPort: {}}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.ports[0].targetPort", "exactly one of number or name must be set"}},
	{name: "bad-protocol", yaml: vd("bad-protocol", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080, protocol: TCP}]
  services: [{labels: {app: reviews}}]
`), wantErr: []string{"spec.ports[0].protocol", "Unsupported value"}},
	{name: "bad-traffic-distribution", yaml: vd("bad-traffic-distribution", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}]
  services: [{labels: {app: reviews}}]
  trafficDistribution: PreferFar
`), wantErr: []string{"spec.trafficDistribution", "Unsupported value"}},
	{name: "valid-subsets", yaml: vd("valid-subsets", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}]
  services: [{labels: {app: reviews}}]
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: east, labels: {causeway.dev/cluster: cluster-1}}
`)},
	{name: "bad-subsets", yaml: vd("bad-subsets", `
  hosts: [reviews.mesh.internal.com]
  ports: [{number: 9080}]
  services: [{labels: {app: reviews}}]
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v1, labels: {version: v2}}
  - {name: V_3, labels: {}}
`), wantErr: []string{
		"spec.subsets", "subset names must be unique",
		"spec.subsets[2].name", "should match",
		"spec.subsets[2].labels", "should have at least 1 properties",
	}},
	{name: "workspace-valid", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: Workspace
metadata: {name: workspace-valid}
spec:
  workloadClusters:
  - {name: "*", namespaces: [{name: bookinfo}]}
  - {name: cluster-1, namespaces: [{name: "*"}]}
  importFrom: [{name: shared}]
  exportTo: [{name: "*"}]
  federation: {enabled: true, serviceSelector: [{labels: {app: reviews}, namespace: bookinfo}]}
`},
	{name: "workspace-bad", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: Workspace
metadata: {name: workspace-bad}
spec:
  workloadClusters:
  - {name: cluster-1, namespaces: [{name: "Book_Info"}]}
  - {name: cluster-2, namespaces: []}
  federation: {enabled: true, hostSuffix: "-bad-"}
`, wantErr: []string{
		"spec.workloadClusters[0].namespaces[0].name", "should match",
		"spec.workloadClusters[1].namespaces", "should have at least 1 items",
		"spec.federation.hostSuffix",
	}},
	{name: "workspace-no-clusters", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: Workspace
metadata: {name: workspace-no-clusters}
spec: {}
`, wantErr: []string{"spec.workloadClusters", "Required value"}},
	{name: "external-service-valid", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: ExternalService
metadata: {name: external-service-valid}
spec:
  hosts: [ratings.vm.example.com]
  ports: [{number: 9080, name: http}]
  endpoints:
  - {address: 192.0.2.10, ports: {http: 8080}, locality: {region: us-east, zone: us-east-1a}}
  - {address: "2001:db8::1"}
  - {address: ratings-2.vm.example.com}
`},
	{name: "external-service-bad", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: ExternalService
metadata: {name: external-service-bad}
spec:
  hosts: [ratings.vm.example.com]
  ports: [{number: 9080, name: http}, {number: 9081, name: http}]
  endpoints:
  - {address: "not an address", ports: {grpc: 70000}, locality: {zone: us-east-1a}}
`, wantErr: []string{
		"spec.endpoints[0].address", "address must be an IP address or a DNS name",
		"spec.endpoints[0].ports", "port numbers must be between 1 and 65535",
		"spec.endpoints[0].locality", "zone requires region",
		"spec.ports", "port names must be unique",
		"endpoint ports must name a port in spec.ports",
	}},
	{name: "failover-policy-valid", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: {name: failover-policy-valid}
spec:
  applyToDestinations: [{selector: {name: reviews-vd}}]
  config:
    localityMappings: [{from: {region: us-east}, to: [{region: us-west, weight: 1}]}]
`},
	{name: "failover-policy-bad", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: {name: failover-policy-bad}
spec:
  applyToDestinations: []
  config:
    localityMappings: [{from: {zone: us-east-1a}, to: [{zone: us-west-1a}]}]
`, wantErr: []string{
		"spec.applyToDestinations", "should have at least 1 items",
		"spec.config.localityMappings[0].from", "from.region is required",
		"spec.config.localityMappings[0].to[0]", "region is required",
	}},
	{name: "failover-policy-empty-config", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: {name: failover-policy-empty-config}
spec:
  applyToDestinations: [{selector: {name: reviews-vd}}]
  config: {}
`, wantErr: []string{"spec.config", "set localityMappings or priorityLabels"}},
	{name: "outlier-policy-bad", yaml: `
apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: outlier-policy-bad}
spec:
  applyToDestinations: [{selector: {name: reviews-vd}}]
  config: {consecutiveErrors: 0, interval: 0s, baseEjectionTime: soon, maxEjectionPercent: 101}
`, wantErr: []string{
		"spec.config.consecutiveErrors", "spec.config.interval", "interval must be positive",
		"spec.config.baseEjectionTime", "spec.config.maxEjectionPercent",
	}},
}

// TestAdmission installs the CRDs in a real kube-apiserver and sends it
// valid and invalid objects: the OpenAPI and CEL rules are what users hit on
// kubectl apply, so they are checked where they run.
func TestAdmission(t *testing.T) {
	env := kubeenv.Start(t, "management")
	env.InstallCRDs(t, "management")
	c := env.Cluster("management")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Clientset().CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNamespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range admissionCases {
		t.Run(tc.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(tc.yaml), &obj.Object); err != nil {
				t.Fatal(err)
			}
			_, err := resourceClient(dyn, obj).Create(ctx, obj, metav1.CreateOptions{})
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("valid object rejected: %v", err)
			case tc.wantErr != nil && err == nil:
				t.Fatalf("invalid object accepted, want an error naming %q", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(`
apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: defaults}
spec:
  applyToDestinations: [{selector: {name: reviews-vd}}]
`), &obj.Object); err != nil {
			t.Fatal(err)
		}
		got, err := dyn.Resource(resourceOf(obj)).Namespace(testNamespace).Create(ctx, obj, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var odp v1alpha1.OutlierDetectionPolicy
		if err := fromUnstructured(got, &odp); err != nil {
			t.Fatal(err)
		}
		cfg := odp.Spec.Config
		if cfg.ConsecutiveErrors == nil || cfg.Interval == nil || cfg.BaseEjectionTime == nil || cfg.MaxEjectionPercent == nil {
			t.Fatalf("API server left defaults unset: %+v", cfg)
		}
		// The API server's defaults and the Go accessors (offline) agree.
		var unset *v1alpha1.OutlierDetectionConfig
		gotDefaults := []any{*cfg.ConsecutiveErrors, cfg.Interval.Duration, cfg.BaseEjectionTime.Duration, *cfg.MaxEjectionPercent}
		want := []any{unset.ConsecutiveErrorsOrDefault(), unset.IntervalOrDefault(), unset.BaseEjectionTimeOrDefault(), unset.MaxEjectionPercentOrDefault()}
		if diff := cmp.Diff(want, gotDefaults); diff != "" {
			t.Errorf("defaults (-go accessors +API server):\n%s", diff)
		}
	})

	t.Run("workspace-defaults", func(t *testing.T) {
		got, err := dyn.Resource(v1alpha1.SchemeGroupVersion.WithResource("workspaces")).Get(ctx, "workspace-valid", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ws v1alpha1.Workspace
		if err := fromUnstructured(got, &ws); err != nil {
			t.Fatal(err)
		}
		// The API server's default and the Go accessor (offline) agree.
		var unset *v1alpha1.WorkspaceFederation
		if ws.Spec.Federation == nil || ws.Spec.Federation.HostSuffix != unset.HostSuffixOrDefault() {
			t.Errorf("federation after defaulting %+v, want hostSuffix %q", ws.Spec.Federation, unset.HostSuffixOrDefault())
		}
	})

	t.Run("status-and-printer-columns", func(t *testing.T) {
		res := v1alpha1.SchemeGroupVersion.WithResource("virtualdestinations")
		vds := dyn.Resource(res).Namespace(testNamespace)
		got, err := vds.Get(ctx, "valid", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		generation := got.GetGeneration()
		status := map[string]any{"state": "ACCEPTED", "message": "ok", "selectedServices": int64(2),
			"clusters": []any{"cluster-1", "cluster-2"}, "observedGeneration": generation,
			"conditions": []any{
				map[string]any{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "serves 1 host:port",
					"observedGeneration": generation, "lastTransitionTime": "2026-01-01T00:00:00Z"},
				map[string]any{"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": "ok",
					"observedGeneration": generation, "lastTransitionTime": "2026-01-01T00:00:00Z"},
			}}
		if err := unstructured.SetNestedField(got.Object, status, "status"); err != nil {
			t.Fatal(err)
		}
		// The status subresource must take it (and not bump generation).
		updated, err := vds.UpdateStatus(ctx, got, metav1.UpdateOptions{})
		if err != nil {
			t.Fatalf("UpdateStatus: %v", err)
		}
		if updated.GetGeneration() != generation {
			t.Errorf("status update changed generation %d -> %d", generation, updated.GetGeneration())
		}
		// A status write through the main resource is ignored: users cannot
		// forge it by kubectl apply.
		updated.Object["status"] = map[string]any{"state": "INVALID"}
		if updated, err = vds.Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if state, _, _ := unstructured.NestedString(updated.Object, "status", "state"); state != "ACCEPTED" {
			t.Errorf("status.state = %q after a main-resource update, want ACCEPTED kept", state)
		}

		raw, err := c.Clientset().Discovery().RESTClient().Get().
			AbsPath("/apis/networking.causeway.dev/v1alpha1/namespaces", testNamespace, "virtualdestinations", "valid").
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var table metav1.Table
		if err := json.Unmarshal(raw, &table); err != nil {
			t.Fatal(err)
		}
		var columns []string
		for _, col := range table.ColumnDefinitions {
			columns = append(columns, col.Name)
		}
		if diff := cmp.Diff([]string{"Name", "Hosts", "Accepted", "Backends", "Services", "Message", "Age"}, columns); diff != "" {
			t.Errorf("columns (-want +got):\n%s", diff)
		}
		if len(table.Rows) != 1 || len(table.Rows[0].Cells) != 7 {
			t.Fatalf("table rows %+v", table.Rows)
		}
		// Age is relative; compare the rest. Accepted and Backends are
		// the reasons of the conditions of those types.
		cells := table.Rows[0].Cells[:6]
		want := []any{"valid", `["reviews.mesh.internal.com"]`, "Accepted", "ResolvedRefs", float64(2), "ok"}
		if diff := cmp.Diff(want, cells); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
	})

	t.Run("discovery", func(t *testing.T) {
		list, err := c.Clientset().Discovery().ServerResourcesForGroupVersion(v1alpha1.SchemeGroupVersion.String())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			if !slices.Contains(r.Categories, "causeway") {
				t.Errorf("%s is not in category causeway (kubectl get causeway)", r.Name)
			}
			got[r.Name] = strings.Join(r.ShortNames, ",")
		}
		want := map[string]string{"virtualdestinations": "vd", "externalservices": "extsvc",
			"failoverpolicies": "fp", "outlierdetectionpolicies": "odp", "workspaces": "ws", "gatewayparameters": "gwparams"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("resources and short names (-want +got):\n%s", diff)
		}
	})
}

// resourceOf maps a test object's kind to its resource.
func resourceOf(obj *unstructured.Unstructured) schema.GroupVersionResource {
	plural := strings.ToLower(obj.GetKind()) + "s"
	if strings.HasSuffix(plural, "ys") {
		plural = strings.TrimSuffix(plural, "ys") + "ies"
	}
	return obj.GroupVersionKind().GroupVersion().WithResource(plural)
}

// resourceClient is the client for obj's resource, in testNamespace unless
// the kind is cluster-scoped (Workspace).
func resourceClient(dyn dynamic.Interface, obj *unstructured.Unstructured) dynamic.ResourceInterface {
	res := dyn.Resource(resourceOf(obj))
	if obj.GetKind() == "Workspace" {
		return res
	}
	return res.Namespace(testNamespace)
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	data, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}
