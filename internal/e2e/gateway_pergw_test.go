package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// The per-Gateway topology: Gateways web/a and web/b both listen on port
// 8080 of every address; each has a gateway proxy of its own, and a third
// proxy serves every Gateway of cluster-1 (--all-gateways). Loopback block
// 127.0.65.x.
const (
	pergwProxyA   = "127.0.65.1"
	pergwProxyB   = "127.0.65.2"
	pergwProxyAll = "127.0.65.3"
	pergwPort     = 8080
)

var pergwProxies = []proxySpec{
	{"pergw-gateway-a", "gateway", "cluster-1", "us-east", "us-east-1a", pergwProxyA, "web/a"},
	{"pergw-gateway-b", "gateway", "cluster-1", "us-east", "us-east-1a", pergwProxyB, "web/b"},
	{"pergw-gateway-all", "gateway", "cluster-1", "us-east", "us-east-1a", pergwProxyAll, "*"},
}

var pergwBackends = []backendSpec{
	{"cluster-1", "store", "store", "v1", "127.0.65.10:9080"},
	{"cluster-1", "admin", "admin", "v1", "127.0.65.11:9080"},
}

// pergwParams: StoreParent is the Gateway the store route attaches to.
type pergwParams struct{ StoreParent string }

var pergwWorld = template.Must(template.New("pergw").Parse(`
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec:
  network: network-1
  locality: {region: us-east, zone: us-east-1a}
  eastWestGateways: [{address: 127.0.65.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: store, namespace: web}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.65.10}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: admin, namespace: web}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.65.11}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: a, namespace: web}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: b, namespace: web}
spec:
  gatewayClassName: causeway
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: store, namespace: web}
spec:
  parentRefs: [{name: {{.StoreParent}}}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /store}}]
    backendRefs: [{name: store, port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: admin, namespace: web}
spec:
  parentRefs: [{name: b}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /admin}}]
    backendRefs: [{name: admin, port: 9080}]
`))

func renderPergwWorld(t *testing.T, p pergwParams) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := pergwWorld.Execute(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pergwAnswer is what a proxy answered for a path: the backend instance
// for a backend's 200, else "status <code>".
func pergwAnswer(proxy, path string) string {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s:%d%s", proxy, pergwPort, path), nil)
	if err != nil {
		return err.Error()
	}
	req.Host = "shop.example.com"
	resp, err := gatewayClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err.Error()
	}
	if resp.StatusCode == http.StatusOK {
		if r, err := e2eutil.BackendAnswer(resp.StatusCode, body); err == nil {
			return r.Instance
		}
	}
	return fmt.Sprintf("status %d", resp.StatusCode)
}

// awaitAnswers waits until every proxy answers every path as want says
// (proxy address → path → answer), and fails t with what differed.
func awaitAnswers(t *testing.T, within time.Duration, want map[string]map[string]string) {
	t.Helper()
	err := e2eutil.Eventually(within, 100*time.Millisecond, func() error {
		var wrong []string
		for proxy, paths := range want {
			for path, w := range paths {
				if got := pergwAnswer(proxy, path); got != w {
					wrong = append(wrong, fmt.Sprintf("%s%s: %q, want %q", proxy, path, got, w))
				}
			}
		}
		if len(wrong) > 0 {
			return fmt.Errorf("%s", strings.Join(wrong, "; "))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGatewaysIsolatedOnOnePort: two Gateways listen on port 8080; a
// route attached to one answers on that Gateway's proxy only (404 on the
// other's), also after it moves to the other Gateway. The proxy of every
// Gateway (--all-gateways) shares one listener between them, so it
// answers both routes: the documented trade-off of that mode.
func TestGatewaysIsolatedOnOnePort(t *testing.T) {
	top := startMesh(t, meshSpec{world: renderPergwWorld(t, pergwParams{StoreParent: "a"}), backends: pergwBackends, proxies: pergwProxies})

	awaitAnswers(t, 20*time.Second, map[string]map[string]string{
		pergwProxyA:   {"/store": "store", "/admin": "status 404"},
		pergwProxyB:   {"/store": "status 404", "/admin": "admin"},
		pergwProxyAll: {"/store": "store", "/admin": "admin"},
	})

	// A's proxy has no cluster for admin, which only B's routes use.
	for proxy, want := range map[string]bool{pergwProxyA: false, pergwProxyB: true} {
		clusters := adminText(t, "http://"+proxy+":19000/clusters")
		if got := strings.Contains(clusters, "admin.web.svc.cluster.local"); got != want {
			t.Errorf("proxy %s has a cluster for web/admin: %v, want %v", proxy, got, want)
		}
	}

	writeWorldFile(t, top.worldPath, renderPergwWorld(t, pergwParams{StoreParent: "b"}))
	awaitAnswers(t, 20*time.Second, map[string]map[string]string{
		pergwProxyA:   {"/store": "status 404", "/admin": "status 404"},
		pergwProxyB:   {"/store": "store", "/admin": "admin"},
		pergwProxyAll: {"/store": "store", "/admin": "admin"},
	})
	e2eutil.CheckNoRejectedUpdates(t, top.envoys)
}

// adminText is the body of an Envoy admin GET.
func adminText(t *testing.T, url string) string {
	t.Helper()
	resp, err := gatewayClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %s", url, err, resp.Status)
	}
	return string(body)
}
