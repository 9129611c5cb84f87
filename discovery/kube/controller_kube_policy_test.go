package kube

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/model"
)

// TestKubePolicyObjects creates every Causeway kind through a real API
// server (CRD defaulting and validation included) and waits for the model
// to hold them as discovery converts them: VirtualDestination labels,
// subsets, external selectors and age; the policy kinds; a cluster-scoped
// Workspace with its defaulted federation suffix.
func TestKubePolicyObjects(t *testing.T) {
	env := kubeShared.Env(t)
	env.InstallCRDs(t, "management")
	ctx := testCtx(t)
	ns := uniqueName("policy")
	ws := uniqueName("ws-policy")
	createNamespace(ctx, t, env.Cluster("management").Clientset(), ns)
	dc, err := dynamic.NewForConfig(env.Cluster("management").Config)
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.ReplaceAll(strings.ReplaceAll(`
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: reviews, namespace: NS, labels: {failover: "true"}}
spec:
  hosts: [reviews.NS.internal]
  ports: [{number: 9080}]
  services: [{labels: {app: reviews}}]
  externalServices: [{name: ratings-vm}]
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: ExternalService
metadata: {name: ratings-vm, namespace: NS}
spec:
  hosts: [ratings.vm.example.com]
  ports: [{number: 9080, name: http}]
  endpoints: [{address: 192.0.2.10}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: {name: failover, namespace: NS}
spec:
  applyToDestinations: [{selector: {labels: {failover: "true"}}}]
  config: {localityMappings: [{from: {region: us-east}, to: [{region: eu-west}]}]}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: OutlierDetectionPolicy
metadata: {name: outliers, namespace: NS}
spec:
  applyToDestinations: [{selector: {name: reviews}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: Workspace
metadata: {name: WS}
spec:
  workloadClusters: [{name: "*", namespaces: [{name: NS}]}]
  federation: {enabled: true}
`, "NS", ns), "WS", ws)
	for _, doc := range strings.Split(docs, "---") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatal(err)
		}
		plural := strings.ToLower(obj.GetKind()) + "s"
		if strings.HasSuffix(plural, "ys") {
			plural = strings.TrimSuffix(plural, "ys") + "ies"
		}
		res := dc.Resource(gvrVirtualDestination.GroupVersion().WithResource(plural))
		var ri dynamic.ResourceInterface = res
		if obj.GetNamespace() != "" {
			ri = res.Namespace(obj.GetNamespace())
		}
		if _, err := ri.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", obj.GetKind(), err)
		}
	}

	c, store, _, _ := runKube(t, env, Options{ClusterConfigPath: writeClustersFile(t, env, "cluster-1"), Namespace: ns + "-system"})
	waitReady(t, c, 30*time.Second)
	waitFor(t, 10*time.Second, "policy objects in the model", func() error {
		snap := store.Load()
		var got []string
		for _, vd := range snap.VirtualDestinations() {
			if vd.Namespace == ns {
				got = append(got, fmt.Sprintf("VD %s labels=%v subsets=%v external=%v dated=%v", vd.Name, vd.Labels, vd.Subsets,
					vd.ExternalServices, !vd.Age.CreationTimestamp.IsZero()))
			}
		}
		for _, es := range snap.ExternalServices() {
			if es.Namespace == ns {
				got = append(got, "ExternalService "+es.Name)
			}
		}
		for _, fp := range snap.FailoverPolicies() {
			if fp.Namespace == ns {
				got = append(got, "FailoverPolicy "+fp.Name)
			}
		}
		for _, p := range snap.OutlierDetectionPolicies() {
			if p.Namespace == ns {
				// The API server filled in the defaults.
				got = append(got, fmt.Sprintf("OutlierDetectionPolicy %s maxEjectionPercent=%d", p.Name, *p.Spec.Config.MaxEjectionPercent))
			}
		}
		for _, w := range snap.Workspaces() {
			if w.Name == ws {
				got = append(got, fmt.Sprintf("Workspace namespaces=%+v federation=%+v", w.Namespaces, *w.Federation))
			}
		}
		want := []string{
			"VD reviews labels=map[failover:true] subsets=" + fmt.Sprint([]model.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}}) +
				" external=" + fmt.Sprint([]model.ServiceSelector{{Name: "ratings-vm"}}) + " dated=true",
			"ExternalService ratings-vm",
			"FailoverPolicy failover",
			"OutlierDetectionPolicy outliers maxEjectionPercent=100",
			fmt.Sprintf("Workspace namespaces=[{Cluster:* Namespace:%s}] federation={HostSuffix:global Selectors:[]}", ns),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			return fmt.Errorf("model (-want +got):\n%s", diff)
		}
		return nil
	})
}
