package crdref

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

func TestTypeOf(t *testing.T) {
	str := apiextensionsv1.JSONSchemaProps{Type: "string"}
	tests := []struct {
		name string
		s    apiextensionsv1.JSONSchemaProps
		want string
	}{
		{"plain", str, "string"},
		{"format", apiextensionsv1.JSONSchemaProps{Type: "integer", Format: "int32"}, "integer (int32)"},
		{"list", apiextensionsv1.JSONSchemaProps{Type: "array", Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &str}}, "[]string"},
		{"map", apiextensionsv1.JSONSchemaProps{Type: "object", AdditionalProperties: &apiextensionsv1.JSONSchemaPropsOrBool{Schema: &str}}, "map[string]string"},
		{"int or string", apiextensionsv1.JSONSchemaProps{XIntOrString: true}, "int-or-string"},
		{"untyped", apiextensionsv1.JSONSchemaProps{}, "any"},
	}
	for _, tc := range tests {
		if got := typeOf(&tc.s); got != tc.want {
			t.Errorf("%s: typeOf = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	one, five := int64(1), int64(5)
	lo, hi := 1.0, 65535.0
	tests := []struct {
		name string
		s    apiextensionsv1.JSONSchemaProps
		want string
	}{
		{"description joined", apiextensionsv1.JSONSchemaProps{Description: "Hosts are\nthe names."}, "Hosts are the names."},
		{"enum unquoted", apiextensionsv1.JSONSchemaProps{Enum: []apiextensionsv1.JSON{{Raw: []byte(`"HTTP"`)}, {Raw: []byte(`2`)}}}, "One of `HTTP`, `2`."},
		{"limits", apiextensionsv1.JSONSchemaProps{Minimum: &lo, Maximum: &hi, MinItems: &one, MaxItems: &five, Pattern: "^a$"},
			"Limits: minimum 1, maximum 65535, at least 1 item, at most 5 items, pattern `^a$`."},
		{"CEL message, else the rule", apiextensionsv1.JSONSchemaProps{XValidations: apiextensionsv1.ValidationRules{{Rule: "a", Message: "zone requires region"}, {Rule: "self.x > 0"}}},
			"Rule: zone requires region. Rule: `self.x > 0`."},
	}
	for _, tc := range tests {
		if got := describe(&tc.s); got != tc.want {
			t.Errorf("%s: describe = %q, want %q", tc.name, got, tc.want)
		}
	}
}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.dev}
spec:
  group: example.dev
  scope: Namespaced
  names: {kind: Widget, plural: widgets, shortNames: [wd]}
  versions:
  - name: v1
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget | with a pipe.
        properties:
          apiVersion: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [ports]
            properties:
              mode: {type: string, default: Fast, enum: [Fast, Slow]}
              ports:
                type: array
                items:
                  type: object
                  required: [number]
                  properties:
                    number: {type: integer, format: int32}
              byName:
                type: object
                additionalProperties:
                  type: object
                  properties:
                    weight: {type: integer}
`

func TestRender(t *testing.T) {
	fsys := fstest.MapFS{
		"crds/widget.yaml":        {Data: []byte(widgetCRD)},
		"crds/kustomization.yaml": {Data: []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n")},
	}
	crds, err := Load(fsys, "crds")
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != 1 {
		t.Fatalf("Load: %d CRDs, want 1 (the kustomization skipped)", len(crds))
	}
	got, err := Render(crds)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- [Widget](#widget)",
		"`apiVersion: example.dev/v1`, namespaced, plural `widgets`, short names `wd`, status subresource.",
		"A Widget | with a pipe.",
		"| `spec` | object |  |  |  |",
		"| `spec.mode` | string |  | `\"Fast\"` | One of `Fast`, `Slow`. |",
		"| `spec.ports` | []object | yes |  |  |",
		"| `spec.ports[].number` | integer (int32) | yes |  |  |",
		"| `spec.byName{}.weight` | integer |  |  |  |",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("reference lacks line %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "| `apiVersion` |") || strings.Contains(got, "| `metadata` |") {
		t.Errorf("standard fields listed:\n%s", got)
	}
}

func TestLoadErrors(t *testing.T) {
	fsys := fstest.MapFS{"crds/bad.yaml": {Data: []byte("kind: CustomResourceDefinition\nmetadata: {name: x}\nspec: {group: g}\n")}}
	if _, err := Load(fsys, "crds"); err == nil || !strings.Contains(err.Error(), "spec.names.kind") {
		t.Errorf("Load of a CRD without a kind: %v, want an error naming spec.names.kind", err)
	}
}

// TestCommittedReferenceIsCurrent fails when api/reference.md is not what
// `make generate` would write from api/crds.
func TestCommittedReferenceIsCurrent(t *testing.T) {
	crds, err := Load(os.DirFS("../../api/crds"), ".")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Render(crds)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../api/reference.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("api/reference.md is out of date with api/crds: run make generate and commit it")
	}
}
