package chart

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

const examplesDir = "../../examples/kubernetes"

// The values that make the chart render examples/kubernetes: the defaults
// for kustomization.yaml, the workload-cluster part alone for
// workload-cluster/, and the client proxy alone for client-proxy/. Both as release "causeway" in causeway-system.
var examples = []struct {
	dir    string
	values map[string]any
}{
	{".", nil},
	{"workload-cluster", map[string]any{
		"controlPlane": map[string]any{"enabled": false}, "workloadCluster": map[string]any{"enabled": true}}},
	{"client-proxy", map[string]any{
		"controlPlane": map[string]any{"enabled": false}, "clientProxy": map[string]any{"enabled": true, "cluster": "cluster-1"}}},
}

// helmOnly are the labels (and pod-template annotation prefix) only a Helm
// release carries; the comparison leaves them out.
var helmOnly = []string{"app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"}

// loadKustomization returns the objects of the files a kustomization lists
// (directories, i.e. api/crds, and Namespaces aside: CRDs are compared by
// TestCRDsMatchAPI, and a Helm release's namespace is made by
// helm --create-namespace, not by the chart), with the kustomization's
// namespace set on namespaced objects as kustomize does.
func loadKustomization(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Namespace string   `json:"namespace"`
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, res := range k.Resources {
		p := filepath.Join(examplesDir, dir, res)
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeAll(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, u := range objs {
			if u.GetKind() == "Namespace" {
				continue
			}
			if u.GetNamespace() == "" && namespaced(u.GetKind()) {
				u.SetNamespace(k.Namespace)
			}
			out = append(out, u)
		}
	}
	return out
}

func namespaced(kind string) bool {
	return !slices.Contains([]string{"ClusterRole", "ClusterRoleBinding", "Namespace", "CustomResourceDefinition"}, kind)
}

// normalize drops what only a Helm rendering has: its labels (everywhere,
// selectors included), the pod-template checksum annotations, and fields
// the conversion leaves empty.
func normalize(u *unstructured.Unstructured) map[string]any {
	obj := runtime.DeepCopyJSON(u.Object)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range helmOnly {
				delete(v, k)
			}
			for k := range v {
				if strings.HasPrefix(k, "checksum/") {
					delete(v, k)
				}
			}
			for k, child := range v {
				walk(child)
				if m, ok := child.(map[string]any); ok && len(m) == 0 {
					delete(v, k)
				}
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(obj)
	return obj
}

func key(u *unstructured.Unstructured) string {
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// TestExamplesMatchChart: examples/kubernetes is what the chart renders
// with the values above, object by object (RBAC rules, Deployment args,
// env, probes, ports, spread, Services, PDB, ConfigMap): a change to one
// without the other fails here.
func TestExamplesMatchChart(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.dir, func(t *testing.T) {
			want := map[string]map[string]any{}
			for _, u := range loadKustomization(t, ex.dir) {
				want[key(u)] = normalize(u)
			}
			got := map[string]map[string]any{}
			for _, u := range mustRender(t, "causeway", ex.values) {
				if u.GetKind() != "CustomResourceDefinition" {
					got[key(u)] = normalize(u)
				}
			}
			if len(want) == 0 {
				t.Fatal("no example objects loaded")
			}
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					t.Errorf("%s is in examples/kubernetes/%s but not rendered by the chart", k, ex.dir)
					continue
				}
				if diff := cmp.Diff(w, g); diff != "" {
					t.Errorf("%s differs (-examples +chart):\n%s", k, diff)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s is rendered by the chart but not in examples/kubernetes/%s", k, ex.dir)
				}
			}
		})
	}
}

// TestLeastPrivilege: in every value set, no Role or ClusterRole rule has
// a wildcard, and each (group, resource, verb, name) it grants is granted
// by some role in examples/kubernetes (which its own test pins rule by
// rule): the chart never grants more than the reviewed manifests.
func TestLeastPrivilege(t *testing.T) {
	type grant struct{ kind, group, resource, verb, name string }
	expand := func(kind string, rules []rbacv1.PolicyRule) []grant {
		var out []grant
		for _, r := range rules {
			names := r.ResourceNames
			if len(names) == 0 {
				names = []string{""}
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						for _, n := range names {
							out = append(out, grant{kind, g, res, v, n})
						}
					}
				}
			}
		}
		return out
	}
	rulesOf := func(t *testing.T, objs []*unstructured.Unstructured) map[string][]grant {
		out := map[string][]grant{}
		for _, u := range objs {
			if u.GetKind() != "Role" && u.GetKind() != "ClusterRole" {
				continue
			}
			var rules []rbacv1.PolicyRule
			raw, _, _ := unstructured.NestedSlice(u.Object, "rules")
			data, _ := yaml.Marshal(raw)
			if err := yaml.UnmarshalStrict(data, &rules); err != nil {
				t.Fatalf("%s %s rules: %v", u.GetKind(), u.GetName(), err)
			}
			out[u.GetKind()+" "+u.GetName()] = expand(u.GetKind(), rules)
		}
		return out
	}
	allowed := map[grant]bool{}
	for _, ex := range examples {
		for _, gs := range rulesOf(t, loadKustomization(t, ex.dir)) {
			for _, g := range gs {
				allowed[g] = true
			}
		}
	}
	if len(allowed) == 0 {
		t.Fatal("no grants in examples/kubernetes")
	}
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			roles := rulesOf(t, mustRender(t, vs.release, vs.values))
			if len(roles) == 0 {
				t.Fatal("no roles rendered")
			}
			for role, gs := range roles {
				for _, g := range gs {
					if g.group == "*" || g.resource == "*" || g.verb == "*" {
						t.Errorf("%s: wildcard in %+v", role, g)
					}
					if !allowed[g] {
						t.Errorf("%s grants %s %s/%s %s, which examples/kubernetes does not", role, g.verb, g.group, g.resource, g.name)
					}
				}
			}
		})
	}
}
