package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestCRDsMatchAPI: crds/ holds exactly the generated api/crds manifests
// (make generate copies them), byte for byte.
func TestCRDsMatchAPI(t *testing.T) {
	want, err := filepath.Glob("../../api/crds/networking.causeway.dev_*.yaml")
	if err != nil || len(want) == 0 {
		t.Fatalf("no CRDs in api/crds (%v)", err)
	}
	got, err := filepath.Glob("crds/*")
	if err != nil {
		t.Fatal(err)
	}
	base := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	if diff := cmp.Diff(base(want), base(got)); diff != "" {
		t.Fatalf("crds/ files differ from api/crds (-api +chart); run make generate:\n%s", diff)
	}
	for _, p := range want {
		a, _ := os.ReadFile(p)
		b, _ := os.ReadFile(filepath.Join("crds", filepath.Base(p)))
		if !bytes.Equal(a, b) {
			t.Errorf("crds/%s differs from api/crds; run make generate", filepath.Base(p))
		}
	}
}

// valueSets are the renderings the tests apply and check; each is its own
// release so they can share one API server.
var valueSets = []struct {
	name, release string
	values        map[string]any
}{
	{"defaults", "causeway", nil},
	{"workload cluster only", "causeway-reader", map[string]any{
		"controlPlane": map[string]any{"enabled": false}, "workloadCluster": map[string]any{"enabled": true}}},
	{"control plane and workload cluster", "causeway-both", map[string]any{
		"workloadCluster": map[string]any{"enabled": true, "serviceAccountName": "causeway-both-reader"}}},
	{"standalone management without leader election or provisioning", "causeway-single", map[string]any{
		"replicaCount": 1, "leaderElection": map[string]any{"enabled": false}, "provisioning": map[string]any{"enabled": false},
		"clusters": map[string]any{"managementIsWorkload": false}, "podDisruptionBudget": map[string]any{"enabled": false},
		"topologySpread": map[string]any{"enabled": false}}},
	{"tuned", "causeway-tuned", map[string]any{
		"replicaCount": 3, "logLevel": "debug", "controllerName": "example.com/gateway-controller",
		"image":     map[string]any{"repository": "registry.example.com/causeway", "tag": "v1.2.3"},
		"xds":       map[string]any{"port": 18443, "serverNames": []string{"xds.example.com"}, "service": map[string]any{"type": "LoadBalancer"}},
		"metrics":   map[string]any{"port": 9191, "serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}},
		"resources": map[string]any{"requests": map[string]any{"cpu": "250m", "memory": "256Mi"}, "limits": map[string]any{"memory": "2G"}},
		"extraArgs": []string{"--stale-after=2m"}, "podDisruptionBudget": map[string]any{"minAvailable": 2}}},
	{"client proxy alone", "causeway-nodes", map[string]any{
		"controlPlane": map[string]any{"enabled": false},
		"clientProxy": map[string]any{"enabled": true, "cluster": "cluster-2", "namespace": "bookinfo", "dnsPort": 5353,
			"xdsAddress": "xds.example.com:443", "xdsServerName": "xds.example.com", "tolerations": []any{map[string]any{"operator": "Exists"}}}}},
}

// find returns the one rendered object of kind named name, typed as T.
func find[T runtime.Object](t *testing.T, objs []*unstructured.Unstructured, kind, name string) T {
	t.Helper()
	var out T
	n := 0
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			n++
			typed, err := scheme.New(u.GroupVersionKind())
			if err != nil {
				t.Fatal(err)
			}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
				t.Fatal(err)
			}
			out = typed.(T)
		}
	}
	if n != 1 {
		t.Fatalf("%d %s named %q rendered, want 1", n, kind, name)
	}
	return out
}

func env(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestDefaults: the default rendering is the HA control plane the issue
// asks for.
func TestDefaults(t *testing.T) {
	objs := mustRender(t, "causeway", nil)
	d := find[*appsv1.Deployment](t, objs, "Deployment", "causeway")
	pod := d.Spec.Template.Spec
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2", *d.Spec.Replicas)
	}
	var keys []string
	for _, c := range pod.TopologySpreadConstraints {
		keys = append(keys, c.TopologyKey)
		if diff := cmp.Diff(d.Spec.Selector.MatchLabels, c.LabelSelector.MatchLabels); diff != "" {
			t.Errorf("spread over %s selects other Pods than the Deployment (-deployment +spread):\n%s", c.TopologyKey, diff)
		}
	}
	if diff := cmp.Diff([]string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, keys); diff != "" {
		t.Errorf("topology spread keys (-want +got):\n%s", diff)
	}
	c := pod.Containers[0]
	if c.Image != "causeway:dev" {
		t.Errorf("image %s, want causeway:<appVersion dev>", c.Image)
	}
	for _, arg := range []string{"--leader-elect=true", "--provision=true", "--controller-name=causeway.dev/gateway-controller",
		"--proxy-namespace=causeway-system", "--log-level=info",
		"--xds-server-name=causeway.causeway-system.svc,causeway.causeway-system.svc.cluster.local"} {
		if !slices.Contains(c.Args, arg) {
			t.Errorf("args %v lack %s", c.Args, arg)
		}
	}
	if got := env(c, "GOMEMLIMIT"); got != "921MiB" {
		t.Errorf("GOMEMLIMIT %q, want 921MiB (90%% of 1Gi)", got)
	}
	pdb := find[*policyv1.PodDisruptionBudget](t, objs, "PodDisruptionBudget", "causeway")
	if pdb.Spec.MinAvailable.IntValue() != 1 || !cmp.Equal(pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels) {
		t.Errorf("PDB %+v does not keep one of the Deployment's Pods", pdb.Spec)
	}
	xdsSvc := find[*corev1.Service](t, objs, "Service", "causeway")
	metricsSvc := find[*corev1.Service](t, objs, "Service", "causeway-metrics")
	for _, tc := range []struct {
		svc  *corev1.Service
		want []string
	}{{xdsSvc, []string{"xds"}}, {metricsSvc, []string{"metrics"}}} {
		var names []string
		for _, p := range tc.svc.Spec.Ports {
			names = append(names, p.Name)
			if p.Port == 9092 || p.TargetPort.IntValue() == 9092 {
				t.Errorf("Service %s exposes the admin port 9092", tc.svc.Name)
			}
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("Service %s ports %v, want %v", tc.svc.Name, names, tc.want)
		}
		if !cmp.Equal(tc.svc.Spec.Selector, d.Spec.Selector.MatchLabels) {
			t.Errorf("Service %s selects %v, not the Deployment's Pods %v", tc.svc.Name, tc.svc.Spec.Selector, d.Spec.Selector.MatchLabels)
		}
	}
	for _, u := range objs {
		if u.GetKind() == "ServiceMonitor" {
			t.Errorf("ServiceMonitor rendered without metrics.serviceMonitor.enabled")
		}
	}
}

// TestValues: each value set reaches the objects it is about.
func TestValues(t *testing.T) {
	for _, vs := range valueSets[1:] {
		t.Run(vs.name, func(t *testing.T) {
			objs := mustRender(t, vs.release, vs.values)
			kinds := map[string]int{}
			for _, u := range objs {
				kinds[u.GetKind()]++
			}
			switch vs.release {
			case "causeway-reader":
				if kinds["Deployment"]+kinds["Service"]+kinds["ConfigMap"] != 0 {
					t.Errorf("workload-cluster-only rendering has control plane objects: %v", kinds)
				}
				find[*corev1.Secret](t, objs, "Secret", "causeway-reader-token")
				find[*rbacv1.Role](t, objs, "Role", "causeway-reader-provisioner")
			case "causeway-both":
				b := find[*rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding", "causeway-both-workload-reader")
				var subjects []string
				for _, s := range b.Subjects {
					subjects = append(subjects, s.Name)
				}
				if diff := cmp.Diff([]string{"causeway-both", "causeway-both-reader"}, subjects); diff != "" {
					t.Errorf("workload reader subjects (-want +got):\n%s", diff)
				}
			case "causeway-single":
				d := find[*appsv1.Deployment](t, objs, "Deployment", "causeway-single")
				for _, arg := range []string{"--leader-elect=false", "--provision=false"} {
					if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, arg) {
						t.Errorf("args lack %s", arg)
					}
				}
				if d.Spec.Template.Spec.TopologySpreadConstraints != nil || kinds["PodDisruptionBudget"] != 0 {
					t.Errorf("spread %v or PDB (%d) rendered though disabled", d.Spec.Template.Spec.TopologySpreadConstraints, kinds["PodDisruptionBudget"])
				}
				for _, r := range find[*rbacv1.Role](t, objs, "Role", "causeway-single").Rules {
					if slices.Contains(r.Resources, "leases") {
						t.Errorf("Role grants Leases without leader election: %+v", r)
					}
				}
				cm := find[*corev1.ConfigMap](t, objs, "ConfigMap", "causeway-single-clusters")
				if strings.Contains(cm.Data["clusters.yaml"], "management") || kinds["ClusterRoleBinding"] != 2 {
					t.Errorf("management cluster still read as a workload cluster: %q, %d ClusterRoleBindings", cm.Data["clusters.yaml"], kinds["ClusterRoleBinding"])
				}
			case "causeway-nodes":
				checkClientProxyValues(t, objs, kinds)
			case "causeway-tuned":
				d := find[*appsv1.Deployment](t, objs, "Deployment", "causeway-tuned")
				c := d.Spec.Template.Spec.Containers[0]
				for _, arg := range []string{"--log-level=debug", "--controller-name=example.com/gateway-controller",
					"--xds-server-name=xds.example.com", "--xds-address=:18443", "--metrics-address=:9191",
					"--provision-xds-address=causeway-tuned.causeway-system.svc:18443", "--stale-after=2m"} {
					if !slices.Contains(c.Args, arg) {
						t.Errorf("args %v lack %s", c.Args, arg)
					}
				}
				if c.Image != "registry.example.com/causeway:v1.2.3" || *d.Spec.Replicas != 3 {
					t.Errorf("image %s replicas %d", c.Image, *d.Spec.Replicas)
				}
				// 2G = 2e9 bytes; 90% is 1716.6MiB.
				if got := env(c, "GOMEMLIMIT"); got != "1716MiB" {
					t.Errorf("GOMEMLIMIT %q, want 1716MiB", got)
				}
				sm := findUnstructured(t, objs, "ServiceMonitor", "causeway-tuned")
				metrics := find[*corev1.Service](t, objs, "Service", "causeway-tuned-metrics")
				sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
				for k, v := range sel {
					if metrics.Labels[k] != v {
						t.Errorf("ServiceMonitor selector %v does not match the metrics Service labels %v", sel, metrics.Labels)
					}
				}
				if xds := find[*corev1.Service](t, objs, "Service", "causeway-tuned"); xds.Labels["app.kubernetes.io/component"] == "metrics" {
					t.Errorf("the ServiceMonitor would select the xDS Service too")
				}
				eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				if len(eps) != 1 || eps[0].(map[string]any)["port"] != "metrics" || sm.GetLabels()["release"] != "prom" {
					t.Errorf("ServiceMonitor endpoints %v labels %v", eps, sm.GetLabels())
				}
			}
		})
	}
}

func findUnstructured(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	t.Fatalf("no %s named %q rendered", kind, name)
	return nil
}

// TestGoMemLimit: GOMEMLIMIT is goMemLimitRatio of limits.memory for every
// quantity form, absent without a limit, and a bad value fails the render.
func TestGoMemLimit(t *testing.T) {
	for _, tc := range []struct {
		limit   any
		ratio   float64
		want    string
		wantErr string
	}{
		{"1Gi", 0.9, "921MiB", ""},
		{"512Mi", 0.9, "460MiB", ""},
		{"1.5Gi", 0.9, "1382MiB", ""},
		{"2G", 0.9, "1716MiB", ""},
		{"1000M", 1, "953MiB", ""},
		{"2097152Ki", 0.5, "1024MiB", ""},
		{"1073741824", 0.9, "921MiB", ""},
		{nil, 0.9, "", ""},
		{"1Gb", 0.9, "", `resources.limits.memory "1Gb"`},
		{"1Gi", 1.5, "", "goMemLimitRatio 1.5"},
		{"100Ki", 0.9, "", "under 1MiB"},
	} {
		values := map[string]any{"goMemLimitRatio": tc.ratio, "resources": map[string]any{"limits": map[string]any{"memory": tc.limit}}}
		out, err := render(t, "causeway", values)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("limit %v ratio %v: error %v, want one naming %q", tc.limit, tc.ratio, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("limit %v: %v", tc.limit, err)
			continue
		}
		objs, err := decodeAll(out)
		if err != nil {
			t.Fatal(err)
		}
		c := find[*appsv1.Deployment](t, objs, "Deployment", "causeway").Spec.Template.Spec.Containers[0]
		if got := env(c, "GOMEMLIMIT"); got != tc.want {
			t.Errorf("limit %v ratio %v: GOMEMLIMIT %q, want %q", tc.limit, tc.ratio, got, tc.want)
		}
	}
}
