package kubernetes_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/discovery/kube"
)

// standalone files are applied by hand, one per cluster, so no
// kustomization lists them.
var standalone = []string{"register-cluster-secret.yaml"}

// decoder decodes strictly: unknown or duplicate fields are errors.
func decoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}

// kustomization is the part of kustomize's format these manifests use;
// decoding it strictly catches fields kustomize would reject or ignore.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
}

// manifests holds the decoded objects, by file path relative to this dir.
type manifests struct {
	objects        map[string][]runtime.Object
	kustomizations map[string]*kustomization
}

func load(t *testing.T) *manifests {
	t.Helper()
	dec := decoder(t)
	m := &manifests{objects: map[string][]runtime.Object{}, kustomizations: map[string]*kustomization{}}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if d.Name() == "kustomization.yaml" {
			k := &kustomization{}
			if err := yaml.UnmarshalStrict(data, k); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			m.kustomizations[path] = k
			return nil
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := dec.Decode(doc, nil, nil)
			if err != nil {
				t.Errorf("%s document %d: %v", path, i, err)
				continue
			}
			m.objects[path] = append(m.objects[path], obj)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.objects) == 0 || len(m.kustomizations) == 0 {
		t.Fatal("no manifests found")
	}
	return m
}

// find returns the one object of type T named name.
func find[T runtime.Object](t *testing.T, m *manifests, name string) T {
	t.Helper()
	var found []T
	for _, objs := range m.objects {
		for _, o := range objs {
			if typed, ok := o.(T); ok && o.(interface{ GetName() string }).GetName() == name {
				found = append(found, typed)
			}
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("%d %T named %q, want 1", len(found), zero, name)
	}
	return found[0]
}

// TestStrictDecode fails on a misspelt field anywhere: load reports every
// document that does not decode strictly.
func TestStrictDecode(t *testing.T) {
	load(t)
}

// TestStrictDecodeCatchesTypos guards the test itself: a typo must fail.
func TestStrictDecodeCatchesTypos(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n",
		"apiVersion: networking.causeway.dev/v1alpha1\nkind: VirtualDestination\nmetadata: {name: x}\nspec: {host: [a.b]}\n",
	} {
		if _, _, err := decoder(t).Decode([]byte(doc), nil, nil); err == nil {
			t.Errorf("typo accepted:\n%s", doc)
		}
	}
}

// TestKustomizations: every resource a kustomization names exists, and
// every manifest is applied by some kustomization (or is standalone).
func TestKustomizations(t *testing.T) {
	m := load(t)
	listed := map[string]bool{}
	for path, k := range m.kustomizations {
		if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
			t.Errorf("%s: %s %s", path, k.APIVersion, k.Kind)
		}
		if k.Namespace != "causeway-system" {
			t.Errorf("%s: namespace %q, want causeway-system", path, k.Namespace)
		}
		for _, res := range k.Resources {
			p := filepath.Join(filepath.Dir(path), res)
			st, err := os.Stat(p)
			switch {
			case err != nil:
				t.Errorf("%s: resource %s: %v", path, res, err)
			case st.IsDir():
				if _, err := os.Stat(filepath.Join(p, "kustomization.yaml")); err != nil {
					t.Errorf("%s: resource %s is a directory without kustomization.yaml", path, res)
				}
			default:
				listed[p] = true
			}
		}
	}
	for path := range m.objects {
		if !listed[path] && !slices.Contains(standalone, path) {
			t.Errorf("%s is in no kustomization.yaml", path)
		}
	}
}

// TestDeploymentWiring checks the references between objects that the
// API server would accept broken (and the Pod would then fail at runtime).
func TestDeploymentWiring(t *testing.T) {
	m := load(t)
	d := find[*appsv1.Deployment](t, m, "causeway")
	pod := d.Spec.Template.Spec
	if *d.Spec.Replicas < 2 {
		t.Errorf("replicas %d: one replica leaves xDS down on every restart", *d.Spec.Replicas)
	}
	find[*corev1.ServiceAccount](t, m, pod.ServiceAccountName)
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	wantArgs := []string{"serve", "--clusters=/etc/causeway/clusters.yaml", "--namespace=causeway-system",
		"--xds-address=:18000", "--metrics-address=:9091", "--ca-dir=/var/run/causeway/ca",
		"--xds-server-name=causeway.causeway-system.svc,causeway.causeway-system.svc.cluster.local",
		"--trust-domain=causeway.local", "--controller-name=causeway.dev/gateway-controller", "--log-level=info",
		"--leader-elect=true", "--lease-name=causeway-status", "--provision=true", "--proxy-namespace=causeway-system",
		"--provision-xds-address=causeway.causeway-system.svc:18000"}
	if diff := cmp.Diff(wantArgs, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if diff := cmp.Diff(map[string]int32{"xds": 18000, "metrics": 9091}, ports); diff != "" {
		t.Errorf("container ports (-want +got):\n%s", diff)
	}
	for _, probe := range []struct {
		name, path string
		p          *corev1.Probe
	}{{"readiness", "/readyz", c.ReadinessProbe}, {"liveness", "/healthz", c.LivenessProbe}} {
		if probe.p == nil || probe.p.HTTPGet == nil || probe.p.HTTPGet.Path != probe.path || probe.p.HTTPGet.Port.StrVal != "metrics" {
			t.Errorf("%s probe %+v, want GET %s on port metrics", probe.name, probe.p, probe.path)
		}
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Errorf("container must run non-root, read-only, without privilege escalation: %+v %+v", pod.SecurityContext, sc)
	}
	mounts := map[string]string{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.Name] = vm.MountPath
	}
	for _, v := range pod.Volumes {
		switch {
		case v.ConfigMap != nil:
			cm := find[*corev1.ConfigMap](t, m, v.ConfigMap.Name)
			if mounts[v.Name] != "/etc/causeway" || cm.Data["clusters.yaml"] == "" {
				t.Errorf("ConfigMap %s must hold clusters.yaml mounted at /etc/causeway (mounted at %q)", cm.Name, mounts[v.Name])
			}
		case v.Secret != nil:
			// The CA root is created by the user (README.md), not shipped.
			if v.Secret.SecretName != "causeway-ca" || mounts[v.Name] != "/var/run/causeway/ca" {
				t.Errorf("CA Secret volume %+v mounted at %q", v.Secret, mounts[v.Name])
			}
		default:
			t.Errorf("volume %s: unexpected source (the CA must not live in an emptyDir)", v.Name)
		}
	}
	// xDS and metrics in Services of their own: scraping never reaches xDS.
	for svcName, want := range map[string]string{"causeway": "xds", "causeway-metrics": "metrics"} {
		svc := find[*corev1.Service](t, m, svcName)
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.StrVal != want {
			t.Errorf("Service %s ports %+v, want only the container port %s", svcName, svc.Spec.Ports, want)
		}
		for _, p := range svc.Spec.Ports {
			if _, ok := ports[p.TargetPort.StrVal]; !ok {
				t.Errorf("Service %s port %s targets %q, not a container port name", svcName, p.Name, p.TargetPort.String())
			}
		}
		if diff := cmp.Diff(d.Spec.Template.Labels, svc.Spec.Selector); diff != "" {
			t.Errorf("Service %s selector does not match the Pod labels (-pod +selector):\n%s", svcName, diff)
		}
	}
}

// TestClustersConfig: the example clusters.yaml is valid for the parser
// causeway serve uses, and the kubeconfig it names is the ConfigMap key
// mounted next to it.
func TestClustersConfig(t *testing.T) {
	cm := find[*corev1.ConfigMap](t, load(t), "causeway-clusters")
	cfg, err := kube.ParseClusterConfig("/etc/causeway/clusters.yaml", []byte(cm.Data["clusters.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.StaleAfter == 0 || cfg.SyncTimeout == 0 {
		t.Errorf("clusters.yaml sets no staleAfter/syncTimeout: %+v", cfg)
	}
	for _, c := range cfg.Clusters {
		key, ok := strings.CutPrefix(c.Kubeconfig, "/etc/causeway/")
		if !ok || cm.Data[key] == "" {
			t.Errorf("cluster %s: kubeconfig %s is not a key of ConfigMap %s", c.Name, c.Kubeconfig, cm.Name)
			continue
		}
		kc, err := clientcmd.Load([]byte(cm.Data[key]))
		if err != nil {
			t.Errorf("cluster %s: %s: %v", c.Name, key, err)
			continue
		}
		ctx := kc.Contexts[kc.CurrentContext]
		if ctx == nil || kc.Clusters[ctx.Cluster] == nil || kc.AuthInfos[ctx.AuthInfo] == nil {
			t.Errorf("cluster %s: %s: current context %q does not resolve", c.Name, key, kc.CurrentContext)
		}
	}
}

// TestRegisterClusterSecret: the example registration Secret carries what
// discovery looks for and a kubeconfig that parses.
func TestRegisterClusterSecret(t *testing.T) {
	s := find[*corev1.Secret](t, load(t), "cluster-1")
	if s.Namespace != "causeway-system" || s.Labels["causeway.dev/cluster"] != "true" {
		t.Errorf("Secret %s/%s labels %v: want namespace causeway-system and causeway.dev/cluster=true", s.Namespace, s.Name, s.Labels)
	}
	var annotations []string
	for k := range s.Annotations {
		annotations = append(annotations, k)
	}
	slices.Sort(annotations)
	want := []string{"causeway.dev/cluster-name", "causeway.dev/east-west-gateways", "causeway.dev/network",
		"causeway.dev/region", "causeway.dev/subzone", "causeway.dev/zone"}
	if diff := cmp.Diff(want, annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	cfg, err := clientcmd.Load([]byte(s.StringData["kubeconfig"]))
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	if _, err := clientcmd.NewDefaultClientConfig(*cfg, nil).ClientConfig(); err != nil {
		t.Errorf("kubeconfig: %v", err)
	}
}

// TestLeastPrivilege: no wildcards, Secrets only through the namespaced
// Role and, read-only, the gateway reader (TLS certificates in any
// namespace), and workload clusters strictly read-only.
func TestLeastPrivilege(t *testing.T) {
	m := load(t)
	check := func(kind, name string, rules []rbacv1.PolicyRule, readOnly bool) {
		for _, r := range rules {
			for _, s := range slices.Concat(r.APIGroups, r.Resources, r.Verbs) {
				if s == "*" {
					t.Errorf("%s %s: wildcard in %+v", kind, name, r)
				}
			}
			if kind == "ClusterRole" && slices.Contains(r.Resources, "secrets") &&
				(name != "causeway-gateway-reader" || !slices.Equal(r.Resources, []string{"secrets"}) || !slices.Equal(r.Verbs, []string{"get", "list", "watch"})) {
				t.Errorf("ClusterRole %s grants Secrets cluster-wide: %+v", name, r)
			}
			for _, v := range r.Verbs {
				if readOnly && v != "list" && v != "watch" && v != "get" {
					t.Errorf("%s %s: verb %q on %v in a read-only role", kind, name, v, r.Resources)
				}
			}
			for _, res := range r.Resources {
				if !readOnly && (slices.Contains(r.Verbs, "update") || slices.Contains(r.Verbs, "patch")) &&
					!strings.HasSuffix(res, "/status") && res != "leases" &&
					!(res == "configmaps" && slices.Equal(r.ResourceNames, []string{"causeway-ca-root"})) {
					t.Errorf("%s %s: may write %s, only status, the Lease and the CA root record are written", kind, name, res)
				}
			}
		}
	}
	seen := 0
	for path, objs := range m.objects {
		for _, o := range objs {
			switch r := o.(type) {
			case *rbacv1.ClusterRole:
				if !strings.HasPrefix(r.Name, "causeway-provisioner") { // pinned below
					check("ClusterRole", r.Name, r.Rules, strings.HasPrefix(path, "workload-cluster") || strings.HasPrefix(path, "client-proxy"))
				}
				seen++
			case *rbacv1.Role:
				if !strings.HasPrefix(r.Name, "causeway-provisioner") {
					check("Role", r.Name, r.Rules, false)
				}
				seen++
			}
		}
	}
	if seen != 7 {
		t.Errorf("checked %d roles, want 7", seen)
	}
	// Provisioning writes in workload clusters: the four kinds it
	// provisions, in its namespace only, and that namespace.
	wantProvisioner := []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "create", "update", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"services", "serviceaccounts", "configmaps"}, Verbs: []string{"get", "list", "create", "update", "patch", "delete"}},
	}
	if diff := cmp.Diff(wantProvisioner, find[*rbacv1.Role](t, m, "causeway-provisioner").Rules); diff != "" {
		t.Errorf("workload provisioner Role rules (-want +got):\n%s", diff)
	}
	wantNamespace := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, ResourceNames: []string{"causeway-system"}, Verbs: []string{"get", "patch"}},
	}
	if diff := cmp.Diff(wantNamespace, find[*rbacv1.ClusterRole](t, m, "causeway-provisioner-namespace").Rules); diff != "" {
		t.Errorf("workload provisioner namespace rules (-want +got):\n%s", diff)
	}
	wantWorkload := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"services", "pods", "nodes"}, Verbs: []string{"list", "watch"}},
		{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
	}
	if diff := cmp.Diff(wantWorkload, find[*rbacv1.ClusterRole](t, m, "causeway-workload-reader").Rules); diff != "" {
		t.Errorf("workload ClusterRole rules (-want +got):\n%s", diff)
	}
	// The client proxy's bootstrap reads its own Node, nothing else.
	wantNodeReader := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}}}
	if diff := cmp.Diff(wantNodeReader, find[*rbacv1.ClusterRole](t, m, "causeway-client-node-reader").Rules); diff != "" {
		t.Errorf("client node reader ClusterRole rules (-want +got):\n%s", diff)
	}
	// The Namespace and TLS Secret informers (discovery/kube
	// informers_gatewayapi.go) read cluster-wide, and only read.
	wantGateway := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list", "watch"}},
	}
	if diff := cmp.Diff(wantGateway, find[*rbacv1.ClusterRole](t, m, "causeway-gateway-reader").Rules); diff != "" {
		t.Errorf("gateway reader ClusterRole rules (-want +got):\n%s", diff)
	}
	// serve reads, creates and updates its CA root record (serve_ca_kube.go)
	// in its namespace, and no other ConfigMap.
	var caRecord []rbacv1.PolicyRule
	for _, r := range find[*rbacv1.Role](t, m, "causeway").Rules {
		if slices.Contains(r.Resources, "configmaps") {
			caRecord = append(caRecord, r)
		}
	}
	wantCARecord := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"causeway-ca-root"}, Verbs: []string{"get", "update"}},
	}
	if diff := cmp.Diff(wantCARecord, caRecord); diff != "" {
		t.Errorf("Role causeway's ConfigMap rules (-want +got):\n%s", diff)
	}
}
