package file

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

// TestServicePortAppProtocol: a world-file Service port carries appProtocol
// as written, beside protocol.
func TestServicePortAppProtocol(t *testing.T) {
	w, err := Parse("world.yaml", []byte(`
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: chat, namespace: web}
spec:
  cluster: cluster-1
  ports:
  - {name: ws, port: 8082, targetPort: 3000, appProtocol: kubernetes.io/ws}
  - {name: h2c, port: 8081, appProtocol: kubernetes.io/h2c, protocol: HTTP}
  - {name: http, port: 8080}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []model.ServicePort{
		{Name: "ws", Port: 8082, TargetPort: 3000, AppProtocol: "kubernetes.io/ws"},
		{Name: "h2c", Port: 8081, TargetPort: 8081, AppProtocol: "kubernetes.io/h2c", Protocol: "HTTP"},
		{Name: "http", Port: 8080, TargetPort: 8080},
	}
	if diff := cmp.Diff(want, w.Services()[0].Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}
