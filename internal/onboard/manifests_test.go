package onboard

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// TestManifests: the embedded workload-cluster/ comes out in the
// kustomization's order (the Namespace and ServiceAccount before what
// refers to them), every namespaced object in causeway-system, and the
// options leave out exactly their file.
func TestManifests(t *testing.T) {
	all := []string{
		"Namespace causeway-system",
		"ServiceAccount causeway-system/causeway-reader",
		"ClusterRole causeway-workload-reader",
		"ClusterRoleBinding causeway-workload-reader",
		"ClusterRoleBinding causeway-token-reviewer",
		"Role causeway-system/causeway-provisioner",
		"RoleBinding causeway-system/causeway-provisioner",
		"ClusterRole causeway-provisioner-namespace",
		"ClusterRoleBinding causeway-provisioner-namespace",
		"Secret causeway-system/causeway-reader-token",
	}
	without := func(prefix string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(s string) bool { return strings.Contains(s, prefix) })
	}
	for _, tc := range []struct {
		name string
		skip []string
		want []string
	}{
		{"everything", nil, all},
		{"no provisioner", []string{ProvisionerFile}, without("provisioner")},
		{"TokenRequest", []string{TokenFile}, without("Secret ")},
		{"neither", []string{ProvisionerFile, TokenFile}, without("provisioner")[:len(without("provisioner"))-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Manifests(tc.skip...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.Describe())
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("objects (-want +got):\n%s", d)
			}
		})
	}
}

// TestManifestsRefuse: what Manifests cannot apply faithfully is an
// error naming the file: a kind it has no resource for, and a
// kustomization using more than resources and namespace.
func TestManifestsRefuse(t *testing.T) {
	const head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ns\nresources: [a.yaml]\n"
	const serviceAccount = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n"
	for _, tc := range []struct {
		name, kustomization, manifest string
		wantErr                       []string
	}{
		{"unknown kind", head, "# comment only\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
			[]string{"d/a.yaml document 2", "Deployment"}},
		{"patches", head + "patches: [{path: p.yaml}]\n", serviceAccount, []string{"d/kustomization.yaml", "patches"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"d/kustomization.yaml": {Data: []byte(tc.kustomization)},
				"d/a.yaml":             {Data: []byte(tc.manifest)},
			}
			_, err := manifestsFrom(fsys, "d")
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want one containing %q", err, want)
				}
			}
		})
	}
}
