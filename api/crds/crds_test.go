package crds_test

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/crds"
)

// loadCRDs strictly decodes every embedded manifest, keyed by kind.
func loadCRDs(t *testing.T) map[string]*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	names, err := fs.Glob(crds.FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, name := range names {
		data, err := crds.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(data, crd); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if crd.APIVersion != "apiextensions.k8s.io/v1" || crd.Kind != "CustomResourceDefinition" {
			t.Fatalf("%s: %s %s is not an apiextensions v1 CRD", name, crd.APIVersion, crd.Kind)
		}
		out[crd.Spec.Names.Kind] = crd
	}
	return out
}

// rules lists a schema's CEL rules as "path: message", path in JSON field
// names ([] for list items, {} for map values).
func rules(path string, s *apiextensionsv1.JSONSchemaProps, out *[]string) {
	if s == nil {
		return
	}
	for _, r := range s.XValidations {
		*out = append(*out, path+": "+r.Message)
	}
	for name, p := range s.Properties {
		rules(path+"."+name, &p, out)
	}
	if s.Items != nil {
		rules(path+"[]", s.Items.Schema, out)
	}
	if s.AdditionalProperties != nil {
		rules(path+"{}", s.AdditionalProperties.Schema, out)
	}
}

func TestCRDs(t *testing.T) {
	tests := []struct {
		kind, plural string
		scope        apiextensionsv1.ResourceScope
		shortNames   []string
		columns      []string
		rules        []string
		// noStatus: a kind Causeway writes no status to.
		noStatus bool
	}{
		{
			kind: "VirtualDestination", plural: "virtualdestinations", shortNames: []string{"vd"},
			columns: []string{"Hosts", "Accepted", "Backends", "Services", "Message", "Age"},
			rules: []string{
				"spec: at least one of spec.services or spec.externalServices must select a backend",
				"spec.ports: port numbers must be unique",
				"spec.ports[].targetPort: exactly one of number or name must be set",
				"spec.services[]: selects every Service in the mesh; give labels, name, namespace or cluster",
				"spec.subsets: subset names must be unique",
			},
		},
		{
			kind: "ExternalService", plural: "externalservices", shortNames: []string{"extsvc"},
			columns: []string{"Hosts", "Accepted", "Message", "Age"},
			rules: []string{
				"spec: endpoint ports must name a port in spec.ports",
				"spec.endpoints[].address: address must be an IP address or a DNS name",
				"spec.endpoints[].locality: subZone requires zone",
				"spec.endpoints[].locality: zone requires region",
				"spec.endpoints[].ports: port numbers must be between 1 and 65535",
				"spec.ports: port names must be unique",
				"spec.ports: port numbers must be unique",
			},
		},
		{
			kind: "FailoverPolicy", plural: "failoverpolicies", shortNames: []string{"fp"},
			columns: []string{"Accepted", "Attached", "Message", "Age"},
			rules: []string{
				"spec.config: set localityMappings or priorityLabels",
				"spec.config.localityMappings[].from: from.region is required",
				"spec.config.localityMappings[].from: subZone requires zone",
				"spec.config.localityMappings[].from: zone requires region",
				"spec.config.localityMappings[].to[]: region is required",
				"spec.config.localityMappings[].to[]: subZone requires zone",
			},
		},
		{
			kind: "OutlierDetectionPolicy", plural: "outlierdetectionpolicies", shortNames: []string{"odp"},
			columns: []string{"Accepted", "Attached", "Message", "Age"},
			rules: []string{
				"spec.config.baseEjectionTime: baseEjectionTime must be positive",
				"spec.config.interval: interval must be positive",
			},
		},
		{
			kind: "GatewayParameters", plural: "gatewayparameters", shortNames: []string{"gwparams"},
			columns: []string{"Replicas", "Service", "Age"}, noStatus: true,
		},
		{
			kind: "Workspace", plural: "workspaces", scope: apiextensionsv1.ClusterScoped, shortNames: []string{"ws"},
			columns: []string{"Accepted", "Message", "Age"},
		},
	}
	all := loadCRDs(t)
	if len(all) != len(tests) {
		t.Errorf("%d CRDs embedded, want %d", len(all), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			crd := all[tt.kind]
			if crd == nil {
				t.Fatalf("no CRD for kind %s", tt.kind)
			}
			if want := tt.plural + ".networking.causeway.dev"; crd.Name != want {
				t.Errorf("name %q, want %q", crd.Name, want)
			}
			scope := tt.scope
			if scope == "" {
				scope = apiextensionsv1.NamespaceScoped
			}
			if crd.Spec.Group != "networking.causeway.dev" || crd.Spec.Scope != scope {
				t.Errorf("group %q scope %q", crd.Spec.Group, crd.Spec.Scope)
			}
			if diff := cmp.Diff(tt.shortNames, crd.Spec.Names.ShortNames); diff != "" {
				t.Errorf("shortNames (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"causeway"}, crd.Spec.Names.Categories); diff != "" {
				t.Errorf("categories (-want +got):\n%s", diff)
			}
			if len(crd.Spec.Versions) != 1 {
				t.Fatalf("%d versions, want 1", len(crd.Spec.Versions))
			}
			v := crd.Spec.Versions[0]
			if v.Name != "v1alpha1" || !v.Served || !v.Storage {
				t.Errorf("version %q served=%v storage=%v", v.Name, v.Served, v.Storage)
			}
			if !tt.noStatus && (v.Subresources == nil || v.Subresources.Status == nil) {
				t.Error("no status subresource: status writes would bump generation and race with users")
			}
			var columns []string
			for _, c := range v.AdditionalPrinterColumns {
				columns = append(columns, c.Name)
			}
			if diff := cmp.Diff(tt.columns, columns); diff != "" {
				t.Errorf("printer columns (-want +got):\n%s", diff)
			}
			var got []string
			rules("", v.Schema.OpenAPIV3Schema, &got)
			for i := range got {
				got[i] = got[i][1:] // drop the root's leading "."
			}
			if diff := cmp.Diff(tt.rules, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("CEL rules (-want +got):\n%s", diff)
			}
		})
	}
}
