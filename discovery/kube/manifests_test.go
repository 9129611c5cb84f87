package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

// seedDir holds the seed walk-through as manifests; `causeway translate`'s
// tests use the same files.
const seedDir = "../../cmd/causeway/testdata/seed"

func TestManifestsSeedWalkthrough(t *testing.T) {
	set := NewManifestSet()
	for _, c := range []string{"cluster-1", "cluster-2"} {
		if err := set.Add(c, filepath.Join(seedDir, c)); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
	cfg, err := LoadClusterConfig(filepath.Join(seedDir, "clusters.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var infos []ClusterInfo
	for _, e := range cfg.Clusters {
		infos = append(infos, e.Info())
	}
	w, errs := BuildWorld(infos, set.Workloads, &set.Config)
	if len(errs) > 0 {
		t.Fatalf("BuildWorld: %v", errs)
	}
	usEast1a := model.Locality{Region: "us-east", Zone: "us-east-1a"}
	usWest1a := model.Locality{Region: "us-west", Zone: "us-west-1a"}
	http := []model.EndpointPort{{Name: "http", Port: 9080}}
	httpPort := []model.ServicePort{{Name: "http", Port: 9080, TargetPort: 9080}}
	ewLabels := map[string]string{EastWestGatewayLabel: "true"}
	reviewsLabels := map[string]string{"app": "reviews", "service": "reviews"}
	want := model.World{
		Clusters: []model.Cluster{
			{Name: "cluster-1", Network: "network-1", Locality: usEast1a, EastWestGateways: []model.GatewayAddress{{Address: "198.18.1.100", Port: 15443}}},
			{Name: "cluster-2", Network: "network-2", Locality: usWest1a, EastWestGateways: []model.GatewayAddress{{Address: "198.18.2.100", Port: 15443}}},
		},
		Services: []model.Service{
			{Cluster: "cluster-1", Namespace: "bookinfo", Name: "productpage", Labels: map[string]string{"app": "productpage", "service": "productpage"}, Ports: httpPort,
				Endpoints: []model.Endpoint{{Address: "198.18.1.20", Ports: http, Locality: usEast1a, Ready: true}}},
			{Cluster: "cluster-1", Namespace: "bookinfo", Name: "reviews", Labels: reviewsLabels, Ports: httpPort, Endpoints: []model.Endpoint{
				{Address: "198.18.1.10", Ports: http, Locality: usEast1a, Ready: true, Labels: map[string]string{"app": "reviews", "version": "v1"}},
				{Address: "198.18.1.11", Ports: http, Locality: model.Locality{Region: "us-east", Zone: "us-east-1b"}, Ready: true, Labels: map[string]string{"app": "reviews", "version": "v2"}},
			}},
			{Cluster: "cluster-1", Namespace: "causeway-system", Name: "causeway-eastwest", Labels: ewLabels, Ports: []model.ServicePort{{Name: "tls", Port: 15443, TargetPort: 15443}}},
			{Cluster: "cluster-2", Namespace: "bookinfo", Name: "reviews", Labels: reviewsLabels, Ports: httpPort, Endpoints: []model.Endpoint{
				{Address: "198.18.2.10", Ports: http, Locality: usWest1a, Ready: true, Labels: map[string]string{"app": "reviews", "version": "v3"}},
			}},
			{Cluster: "cluster-2", Namespace: "causeway-system", Name: "causeway-eastwest", Labels: ewLabels, Ports: []model.ServicePort{{Name: "tls", Port: 15443, TargetPort: 15443}}},
		},
		VirtualDestinations: []model.VirtualDestination{{
			Namespace: "bookinfo", Name: "reviews-vd", Hosts: []string{"reviews.mesh.internal.com"},
			Ports:    []model.VirtualDestinationPort{{Number: 9080, Protocol: "HTTP"}},
			Services: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
		}},
	}
	got := w
	got.GatewayClasses, got.Gateways, got.HTTPRoutes, got.ReferenceGrants = nil, nil, nil, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("world (-want +got):\n%s", diff)
	}
	var names []string
	for _, c := range w.GatewayClasses {
		names = append(names, "GatewayClass "+c.Name+" "+string(c.Spec.ControllerName))
	}
	for _, g := range w.Gateways {
		names = append(names, "Gateway "+g.Namespace+"/"+g.Name)
	}
	for _, r := range w.HTTPRoutes {
		names = append(names, "HTTPRoute "+r.Namespace+"/"+r.Name)
	}
	if diff := cmp.Diff([]string{"GatewayClass causeway causeway.dev/gateway-controller", "Gateway gloo-system/http", "HTTPRoute bookinfo/productpage", "HTTPRoute gloo-system/reviews"}, names); diff != "" {
		t.Errorf("Gateway API objects (-want +got):\n%s", diff)
	}
	if got := w.HTTPRoutes[1].Spec.Rules[0].BackendRefs[0].Kind; got == nil || *got != "Hostname" {
		t.Errorf("reviews backendRef kind = %v, want Hostname", got)
	}
}

// writeManifests writes files (name → content) into a new directory.
func writeManifests(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestManifestsDecoding(t *testing.T) {
	dir := writeManifests(t, map[string]string{
		"a.yaml": `# comment-only documents are skipped
---
apiVersion: v1
kind: ServiceList
items:
- metadata: {name: reviews}
  spec: {ports: [{port: 9080}]}
--- # a separator may carry a comment
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: old-route, namespace: gloo-system}
spec:
  parentRefs: [{name: http}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-gloo, namespace: bookinfo}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gloo-system}]
  to: [{group: "", kind: Service}]
`,
		"b.json": `{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "namespace": "ignored"}}`,
		"c.yml": `apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: odp, namespace: bookinfo}
spec:
  applyToDestinations: [{selector: {labels: {app: reviews}}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: Workspace
metadata: {name: team-a, namespace: ignored}   # cluster-scoped, as kubectl treats it
spec:
  workloadClusters: [{name: "*", namespaces: [{name: bookinfo}]}]
`,
		"ignored.txt": "not a manifest",
	})
	set := NewManifestSet()
	if err := set.Add("cluster-1", dir); err != nil {
		t.Fatal(err)
	}
	w := set.Workloads["cluster-1"]
	if w == nil || len(w.Services) != 1 || w.Services[0].Namespace != "default" || w.Services[0].Name != "reviews" || w.Services[0].Spec.Ports[0].Port != 9080 {
		t.Errorf("ServiceList item not decoded into default/reviews: %+v", w)
	}
	if len(w.Nodes) != 1 || w.Nodes[0].Name != "n1" || w.Nodes[0].Namespace != "" {
		t.Errorf("Node from JSON: %+v", w.Nodes)
	}
	c := set.Config
	if len(c.HTTPRoutes) != 1 || c.HTTPRoutes[0].Namespace != "gloo-system" || c.HTTPRoutes[0].APIVersion != "gateway.networking.k8s.io/v1" || len(c.HTTPRoutes[0].Spec.ParentRefs) != 1 {
		t.Errorf("v1beta1 HTTPRoute not converted to v1: %+v", c.HTTPRoutes)
	}
	if len(c.ReferenceGrants) != 1 || len(c.OutlierDetectionPolicies) != 1 || c.OutlierDetectionPolicies[0].Namespace != "bookinfo" {
		t.Errorf("config objects: %d ReferenceGrants, %d OutlierDetectionPolicies", len(c.ReferenceGrants), len(c.OutlierDetectionPolicies))
	}
	if len(c.Workspaces) != 1 || c.Workspaces[0].Name != "team-a" || c.Workspaces[0].Namespace != "" || c.Workspaces[0].Spec.WorkloadClusters[0].Namespaces[0].Name != "bookinfo" {
		t.Errorf("Workspace not decoded as cluster-scoped team-a: %+v", c.Workspaces)
	}

	// The same workload object in another cluster is a different object;
	// the same config object from another cluster's files is a duplicate.
	other := writeManifests(t, map[string]string{"x.yaml": "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n" +
		"apiVersion: networking.causeway.dev/v1alpha1\nkind: OutlierDetectionPolicy\nmetadata: {name: odp, namespace: bookinfo}\nspec: {applyToDestinations: [{selector: {}}]}\n"})
	err := set.Add("cluster-2", other)
	if want := "x.yaml: document 2 (OutlierDetectionPolicy bookinfo/odp): duplicate OutlierDetectionPolicy bookinfo/odp, first defined in " + filepath.Join(dir, "c.yml") + ": document 1"; err == nil || err.Error() != filepath.Join(other, want) {
		t.Errorf("err = %v\nwant %s", err, filepath.Join(other, want))
	}
	if n := set.Workloads["cluster-2"]; n == nil || len(n.Nodes) != 1 {
		t.Errorf("cluster-2's Node was not added next to the duplicate: %+v", n)
	}
}

func TestManifestsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string // one per error line, after "<file>: "
	}{
		{
			name: "unknown fields name document and path",
			content: "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n" +
				"apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: bookinfo}\nspec:\n  ports: [{port: 9080, colour: blue}]\n  flavour: x\n",
			want: []string{
				`document 2 (Service bookinfo/reviews): unknown field "spec.flavour"`,
				`document 2 (Service bookinfo/reviews): unknown field "spec.ports[0].colour"`,
			},
		},
		{
			name:    "unknown field in a Causeway CR",
			content: "apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: vd, namespace: bookinfo}\nspec: {hosts: [a.b], ports: [{number: 80, targetport: {number: 8080}}]}\n",
			want:    []string{`document 1 (VirtualDestination bookinfo/vd): unknown field "spec.ports[0].targetport"`},
		},
		{
			name:    "unknown kind lists the supported ones",
			content: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reviews-v1}\n",
			want: []string{`document 1 (Deployment default/reviews-v1): unsupported apiVersion "apps/v1" kind "Deployment"; supported: v1 Service, v1 Pod, v1 Node, discovery.k8s.io/v1 EndpointSlice, ` +
				`networking.causeway.dev/v1alpha1 VirtualDestination, networking.causeway.dev/v1alpha1 ExternalService, networking.causeway.dev/v1alpha1 FailoverPolicy, ` +
				`networking.causeway.dev/v1alpha1 OutlierDetectionPolicy, networking.causeway.dev/v1alpha1 Workspace, networking.causeway.dev/v1alpha1 GatewayParameters, gateway.networking.k8s.io/v1 GatewayClass, gateway.networking.k8s.io/v1 Gateway, gateway.networking.k8s.io/v1 HTTPRoute, ` +
				`gateway.networking.k8s.io/v1beta1 Gateway, gateway.networking.k8s.io/v1beta1 HTTPRoute, gateway.networking.k8s.io/v1beta1 ReferenceGrant, v1 Secret`},
		},
		{
			name:    "a kind of a registered group that Causeway does not read",
			content: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
			want:    []string{`document 1 (ConfigMap default/c): unsupported apiVersion "v1" kind "ConfigMap"; supported: v1 Service`},
		},
		{
			name:    "items of a List are named",
			content: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}}\n- {apiVersion: v1, kind: Pod, metadata: {name: q}, spec: {nodename: x}}\n",
			want:    []string{`document 1 items[1] (Pod default/q): unknown field "spec.nodename"`},
		},
		{
			name:    "wrong types",
			content: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: http}]}\n",
			want:    []string{`document 1 (Service default/s): `},
		},
		{
			name:    "missing name, kind, duplicate, bad YAML",
			content: "apiVersion: v1\nkind: Pod\nmetadata: {namespace: x}\n---\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\n---\nkind: [\n",
			want: []string{
				"document 1 (Pod): metadata.name: is required",
				"document 2: apiVersion and kind are required",
				"document 4 (Pod default/p): duplicate Pod default/p, first defined in ",
				"document 5 (line 15): invalid YAML: error converting YAML to JSON: yaml: line 15: ",
			},
		},
		{
			name:    "duplicate fields",
			content: "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nmetadata: {name: n2}\n",
			want:    []string{`document 1 (Node n2): yaml: unmarshal errors: line 4: key "metadata" already set in map`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.yaml")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			err := NewManifestSet().Add("cluster-1", path)
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("errors:\n%s\nwant %d:\n%s", err, len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i, want := range tc.want {
				if !strings.HasPrefix(lines[i], path+": "+want) {
					t.Errorf("error %d:\n%s\nwant prefix:\n%s: %s", i, lines[i], path, want)
				}
			}
		})
	}
}

func TestManifestsPaths(t *testing.T) {
	set := NewManifestSet()
	if err := set.Add("cluster-1", filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("missing path: %v", err)
	}
	empty := writeManifests(t, map[string]string{"notes.txt": "x"})
	if err := set.Add("cluster-1", empty); err == nil || !strings.Contains(err.Error(), "no .yaml, .yml or .json files") {
		t.Errorf("empty directory: %v", err)
	}
	if err := set.Add("", empty); err == nil {
		t.Error("no cluster name: no error")
	}
}
