package chart

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// checkClientProxyValues: clientProxy's values reach the bootstrap's
// flags, and the client proxy renders alone (no control plane objects).
func checkClientProxyValues(t *testing.T, objs []*unstructured.Unstructured, kinds map[string]int) {
	t.Helper()
	if kinds["Deployment"]+kinds["Service"]+kinds["ConfigMap"] != 0 {
		t.Errorf("client-proxy-only rendering has control plane objects: %v", kinds)
	}
	ds := find[*appsv1.DaemonSet](t, objs, "DaemonSet", "causeway-nodes-client")
	find[*corev1.ServiceAccount](t, objs, "ServiceAccount", "causeway-client")
	pod := ds.Spec.Template.Spec
	want := []string{"bootstrap", "--role=client", "--cluster=cluster-2", "--node-name=$(NODE_NAME)", "--bind-address=$(HOST_IP)",
		"--namespace=bookinfo", "--dns-port=5353", "--admin-address=127.0.0.1:15000", "--xds-address=xds.example.com:443",
		"--xds-server-name=xds.example.com", "--xds-ca=/etc/causeway/ca/ca.pem", "--xds-token-file=/var/run/secrets/causeway/token",
		"--out=/etc/envoy/bootstrap.yaml"}
	if diff := cmp.Diff(want, pod.InitContainers[0].Args); diff != "" {
		t.Errorf("bootstrap args (-want +got):\n%s", diff)
	}
	if len(pod.Tolerations) != 1 || pod.Tolerations[0].Operator != corev1.TolerationOpExists || pod.ServiceAccountName != "causeway-client" {
		t.Errorf("tolerations %v, service account %q", pod.Tolerations, pod.ServiceAccountName)
	}
	if got := ds.Spec.Selector.MatchLabels["app.kubernetes.io/name"]; got != "causeway-client" {
		t.Errorf("DaemonSet selects app.kubernetes.io/name=%q: it must not select the control plane's Pods", got)
	}
}

// TestClientProxyNeedsCluster: without clientProxy.cluster the render
// fails naming the value, instead of proxies claiming no cluster.
func TestClientProxyNeedsCluster(t *testing.T) {
	_, err := render(t, "causeway", map[string]any{"clientProxy": map[string]any{"enabled": true}})
	if err == nil || !strings.Contains(err.Error(), "clientProxy.cluster") {
		t.Errorf("render = %v, want an error naming clientProxy.cluster", err)
	}
}
