package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// writeBenchManifests writes, as one cluster's manifests, a Gateway, n
// HTTPRoutes of 2 rules each (both rules to the route's own Service) and n
// Services with an EndpointSlice of eps ready endpoints each.
func writeBenchManifests(tb testing.TB, dir string, n, eps int) {
	tb.Helper()
	var cfg, svcs bytes.Buffer
	cfg.WriteString(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: http, namespace: gw}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: All}}}
`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&cfg, `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route-%d, namespace: apps}
spec:
  parentRefs: [{name: http, namespace: gw}]
  hostnames: [app-%d.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: app-%d, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: app-%d, port: 80}]
`, i, i, i, i)
		fmt.Fprintf(&svcs, `---
apiVersion: v1
kind: Service
metadata: {name: app-%d, namespace: apps, labels: {app: app-%d}}
spec:
  selector: {app: app-%d}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: app-%d-x, namespace: apps, labels: {kubernetes.io/service-name: app-%d}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
`, i, i, i, i, i)
		for e := 0; e < eps; e++ {
			fmt.Fprintf(&svcs, "- {addresses: [10.%d.%d.%d], conditions: {ready: true}}\n", i/250, i%250, e+1)
		}
	}
	for name, b := range map[string][]byte{"config.yaml": cfg.Bytes(), "services.yaml": svcs.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkTranslateManifests runs the built binary's offline translate on
// 1,000 HTTPRoutes × 2 rules → 1,000 Services × 10 endpoints, output
// included, and reports its wall time and peak RSS (the target: ≤ 1 s,
// ≤ 150 MiB).
func BenchmarkTranslateManifests(b *testing.B) {
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "causeway")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "cluster-1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	const routes, eps = 1000, 10
	writeBenchManifests(b, dir, routes, eps)
	var maxRSS int64
	var wall time.Duration
	runs := 0
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "translate", "--kube", "cluster-1="+dir, "--role", "gateway", "--cluster", "cluster-1", "--gateway", "gw/http")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("translate: %v\n%s", err, errOut.String())
		}
		wall += time.Since(start)
		runs++
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			maxRSS = max(maxRSS, ru.Maxrss) // KiB on Linux
		}
		if got := bytes.Count(out.Bytes(), []byte("\nname: kube|")) + bytes.Count(out.Bytes(), []byte("\nname: outbound|")); got < routes {
			b.Fatalf("output names %d Service clusters, want ≥ %d", got, routes)
		}
	}
	b.ReportMetric(float64(wall.Milliseconds())/float64(runs), "wall-ms")
	b.ReportMetric(float64(maxRSS)/1024, "peak-RSS-MiB")
}
