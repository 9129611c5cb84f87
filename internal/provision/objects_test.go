package provision

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

const testCA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

func testGateway(ports ...gwv1.PortNumber) *model.Gateway {
	gw := &model.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "front"}}
	for i, p := range ports {
		gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{Name: gwv1.SectionName("l" + string(rune('a'+i))), Port: p, Protocol: gwv1.HTTPProtocolType})
	}
	return gw
}

func TestBuild(t *testing.T) {
	name := ObjectName("web", "front")
	labels := map[string]string{
		AppNameLabel: AppNameValue, ManagedByLabel: ManagedByValue,
		model.GatewayNameLabel: "front", model.GatewayNamespaceLabel: "web",
	}
	cfg := Config{Namespace: "causeway-system", XDSAddress: "causeway.causeway-system.svc:18000", CAPEM: []byte(testCA)}
	tests := []struct {
		name   string
		cfg    Config
		target Target
		// want: the Service spec, replicas, image, resources, volumes
		wantService   corev1.ServiceSpec
		wantAnno      map[string]string
		wantReplicas  int32
		wantImage     string
		wantResources corev1.ResourceRequirements
		wantVolumes   []string
		wantCMKeys    []string
	}{
		{
			name:   "defaults",
			cfg:    cfg,
			target: Target{Gateway: testGateway(80), Cluster: "c1"},
			wantService: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: labels, Ports: []corev1.ServicePort{
				{Name: "port-80", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(80)},
			}},
			wantReplicas: 1, wantImage: v1alpha1.DefaultEnvoyImage,
			wantVolumes: []string{"config", "token"}, wantCMKeys: []string{BootstrapKey, CAKey},
		},
		{
			name: "parameters, ports deduplicated and sorted",
			cfg:  cfg,
			target: Target{Gateway: testGateway(8080, 80, 8080), Cluster: "c1", Params: &v1alpha1.GatewayParametersSpec{
				Replicas: ptr(int32(3)), Image: "registry.example/envoy:x",
				Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
				Service:   &v1alpha1.GatewayServiceParameters{Type: corev1.ServiceTypeNodePort, Annotations: map[string]string{"lb": "internal"}},
			}},
			wantService: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: labels, Ports: []corev1.ServicePort{
				{Name: "port-80", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(80)},
				{Name: "port-8080", Protocol: corev1.ProtocolTCP, Port: 8080, TargetPort: intstr.FromInt32(8080)},
			}},
			wantAnno:     map[string]string{"lb": "internal"},
			wantReplicas: 3, wantImage: "registry.example/envoy:x",
			wantResources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
			wantVolumes:   []string{"config", "token"}, wantCMKeys: []string{BootstrapKey, CAKey},
		},
		{
			name:   "insecure: no token, no CA",
			cfg:    Config{Namespace: "causeway-system", XDSAddress: "10.0.0.1:18000", Insecure: true},
			target: Target{Gateway: testGateway(80), Cluster: "c1", Params: &v1alpha1.GatewayParametersSpec{Replicas: ptr(int32(0))}},
			wantService: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: labels, Ports: []corev1.ServicePort{
				{Name: "port-80", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(80)},
			}},
			wantReplicas: 0, wantImage: v1alpha1.DefaultEnvoyImage,
			wantVolumes: []string{"config"}, wantCMKeys: []string{BootstrapKey},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Build(tt.cfg, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []metav1.ObjectMeta{got.ServiceAccount.ObjectMeta, got.ConfigMap.ObjectMeta, got.Service.ObjectMeta, got.Deployment.ObjectMeta} {
				if m.Name != name || m.Namespace != tt.cfg.Namespace {
					t.Errorf("object %s/%s, want %s/%s", m.Namespace, m.Name, tt.cfg.Namespace, name)
				}
				if d := cmp.Diff(labels, m.Labels); d != "" {
					t.Errorf("%s labels (-want +got):\n%s", m.Name, d)
				}
			}
			if d := cmp.Diff(tt.wantService, got.Service.Spec); d != "" {
				t.Errorf("Service spec (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantAnno, got.Service.Annotations); d != "" {
				t.Errorf("Service annotations (-want +got):\n%s", d)
			}
			dep := got.Deployment.Spec
			if *dep.Replicas != tt.wantReplicas {
				t.Errorf("replicas %d, want %d", *dep.Replicas, tt.wantReplicas)
			}
			if d := cmp.Diff(labels, dep.Selector.MatchLabels); d != "" {
				t.Errorf("selector (-want +got):\n%s", d)
			}
			c := dep.Template.Spec.Containers[0]
			if c.Image != tt.wantImage {
				t.Errorf("image %q, want %q", c.Image, tt.wantImage)
			}
			if d := cmp.Diff(tt.wantResources, c.Resources); d != "" {
				t.Errorf("resources (-want +got):\n%s", d)
			}
			var vols []string
			for _, v := range dep.Template.Spec.Volumes {
				vols = append(vols, v.Name)
			}
			if d := cmp.Diff(tt.wantVolumes, vols); d != "" {
				t.Errorf("volumes (-want +got):\n%s", d)
			}
			var keys []string
			for _, k := range []string{BootstrapKey, CAKey} {
				if _, ok := got.ConfigMap.Data[k]; ok {
					keys = append(keys, k)
				}
			}
			if d := cmp.Diff(tt.wantCMKeys, keys); d != "" {
				t.Errorf("ConfigMap keys (-want +got):\n%s", d)
			}
			if dep.Template.Spec.ServiceAccountName != name || *dep.Template.Spec.AutomountServiceAccountToken {
				t.Errorf("service account %q automount %v", dep.Template.Spec.ServiceAccountName, *dep.Template.Spec.AutomountServiceAccountToken)
			}
		})
	}
}

// TestBuildBootstrap: the bootstrap names the Gateway and cluster, reaches
// the configured xDS address and reads the projected token file.
func TestBuildBootstrap(t *testing.T) {
	objs, err := Build(Config{Namespace: "ns", XDSAddress: "xds.example:18000", CAPEM: []byte(testCA)}, Target{Gateway: testGateway(80), Cluster: "c2"})
	if err != nil {
		t.Fatal(err)
	}
	raw := objs.ConfigMap.Data[BootstrapKey]
	var b struct {
		Node struct {
			Metadata map[string]string `json:"metadata"`
		} `json:"node"`
	}
	if err := yaml.Unmarshal([]byte(raw), &b); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"causeway.role": "gateway", "causeway.cluster": "c2", "causeway.gateway": "web/front"}
	if d := cmp.Diff(want, b.Node.Metadata); d != "" {
		t.Errorf("node metadata (-want +got):\n%s", d)
	}
	for _, s := range []string{TokenPath, configDir + "/" + CAKey, "xds.example"} {
		if !strings.Contains(raw, s) {
			t.Errorf("bootstrap lacks %q:\n%s", s, raw)
		}
	}
}

// TestBuildRollsOnConfigChange: a changed bootstrap or CA bundle changes
// the Pod template, so the Deployment rolls.
func TestBuildRollsOnConfigChange(t *testing.T) {
	hash := func(cfg Config) string {
		o, err := Build(cfg, Target{Gateway: testGateway(80), Cluster: "c1"})
		if err != nil {
			t.Fatal(err)
		}
		return o.Deployment.Spec.Template.Annotations[ConfigHashAnnotation]
	}
	base := Config{Namespace: "ns", XDSAddress: "a:1", CAPEM: []byte(testCA)}
	other := base
	other.CAPEM = []byte(testCA + testCA)
	moved := base
	moved.XDSAddress = "b:1"
	if hash(base) == "" || hash(base) != hash(base) || hash(base) == hash(other) || hash(base) == hash(moved) {
		t.Errorf("config hashes: base %q, other CA %q, other address %q", hash(base), hash(other), hash(moved))
	}
}

func TestBuildErrors(t *testing.T) {
	long := testGateway(80)
	long.Name = strings.Repeat("g", 64)
	for name, target := range map[string]Target{
		"name too long for a label": {Gateway: long, Cluster: "c1"},
		"no listener":               {Gateway: testGateway(), Cluster: "c1"},
	} {
		if _, err := Build(Config{Namespace: "ns", XDSAddress: "a:1", Insecure: true}, target); err == nil || !strings.Contains(err.Error(), "Gateway web/") {
			t.Errorf("%s: error %v, want one naming the Gateway", name, err)
		}
	}
}

func TestObjectName(t *testing.T) {
	seen := map[string]string{}
	for _, nn := range [][2]string{{"a-b", "c"}, {"a", "b-c"}, {"web", "front.example.com"}, {strings.Repeat("n", 63), strings.Repeat("x", 253)}} {
		got := ObjectName(nn[0], nn[1])
		if errs := validation.IsDNS1035Label(got); len(errs) > 0 {
			t.Errorf("ObjectName(%q, %q) = %q: %v", nn[0], nn[1], got, errs)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("ObjectName(%q, %q) = %q, same as for %s", nn[0], nn[1], got, prev)
		}
		seen[got] = nn[0] + "/" + nn[1]
	}
	if got := ObjectName("web", "front"); !strings.HasPrefix(got, "causeway-gw-web-front-") {
		t.Errorf("ObjectName(web, front) = %q: want it readable", got)
	}
}
