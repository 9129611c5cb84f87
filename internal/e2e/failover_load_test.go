package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// The failover-under-load world: web in three clusters behind one
// VirtualDestination, a gateway proxy in cluster-1 and east-west gateways
// in cluster-2 and -3. A FailoverPolicy maps us-east to us-west, so the
// gateway's priorities are cluster-1 (direct), cluster-2, cluster-3 (both
// through their east-west gateways). Addresses are TestTrafficPolicies'
// (127.0.3N.x); the e2e lock keeps the tests apart.
const (
	failoverHost = "failover.example.com"
	// failoverRate is the load, as in the report.
	failoverRate = 50
	// failoverStreak answers in a row from the expected cluster end a step.
	failoverStreak = 10
	// failoverHold keeps a step going after its streak, so failures that
	// come late (an east-west gateway dropping its endpoints after the
	// gateway moved) are counted in it.
	failoverHold = 2 * time.Second
)

var failoverProxies = []proxySpec{
	{"failover-gateway-cluster-1", "gateway", "cluster-1", "us-east", "us-east-1a", policyGatewayAddress},
	{"failover-eastwest-cluster-2", "eastwest", "cluster-2", "us-west", "us-west-1a", policyEastWest2},
	{"failover-eastwest-cluster-3", "eastwest", "cluster-3", "eu-west", "eu-west-1a", policyEastWest3},
}

var failoverBackends = []backendSpec{
	{"cluster-1", "web", "web-c1-a", "v1", "127.0.31.80:9080"},
	{"cluster-1", "web", "web-c1-b", "v1", "127.0.31.81:9080"},
	{"cluster-2", "web", "web-c2", "v1", "127.0.32.80:9080"},
	{"cluster-3", "web", "web-c3", "v1", "127.0.33.80:9080"},
}

// failoverParams are the knobs the scenario turns.
type failoverParams struct {
	// Cluster1Ready and Cluster2Ready mark those clusters' web endpoints ready.
	Cluster1Ready, Cluster2Ready bool
	// NoRetries gives the route retry {attempts: 0}, which overrides the
	// default retries: the route as it was before them.
	NoRetries bool
}

var failoverTemplate = template.Must(template.New("failover-world").Parse(`
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-1}
spec:
  network: network-1
  locality: {region: us-east, zone: us-east-1a}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-2}
spec:
  network: network-2
  locality: {region: us-west, zone: us-west-1a}
  eastWestGateways: [{address: 127.0.32.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Cluster
metadata: {name: cluster-3}
spec:
  network: network-3
  locality: {region: eu-west, zone: eu-west-1a}
  eastWestGateways: [{address: 127.0.33.100, port: 15443}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  cluster: cluster-1
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints:
  - {address: 127.0.31.80, ready: {{.Cluster1Ready}}}
  - {address: 127.0.31.81, ready: {{.Cluster1Ready}}}
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  cluster: cluster-2
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.32.80, ready: {{.Cluster2Ready}}}]
---
apiVersion: world.causeway.dev/v1alpha1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  cluster: cluster-3
  ports: [{name: http, port: 9080, protocol: HTTP}]
  endpoints: [{address: 127.0.33.80}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: VirtualDestination
metadata: {name: web, namespace: shop, labels: {failover: "true"}}
spec:
  hosts: [web.mesh.internal.com]
  ports: [{number: 9080, protocol: HTTP}]
  services: [{labels: {app: web}}]
---
apiVersion: networking.causeway.dev/v1alpha1
kind: FailoverPolicy
metadata: {name: us-east-to-us-west, namespace: shop}
spec:
  applyToDestinations: [{selector: {labels: {failover: "true"}}}]
  config:
    localityMappings:
    - from: {region: us-east}
      to: [{region: us-west}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: failover-gateway
  namespace: shop
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway
  listeners:
  - {name: http, port: 8080, protocol: HTTP, hostname: failover.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: failover-gateway}]
  hostnames: [failover.example.com]
  rules:
  - backendRefs: [{group: networking.causeway.dev, kind: Hostname, name: web.mesh.internal.com, port: 9080}]
{{- if .NoRetries}}
    retry: {attempts: 0}
{{- end}}
`))

func renderFailoverWorld(p failoverParams) []byte {
	var buf bytes.Buffer
	if err := failoverTemplate.Execute(&buf, p); err != nil {
		panic(err) // the template is a constant
	}
	return buf.Bytes()
}

// failoverStep is one world change of the chain and the cluster that must
// answer afterwards. paused names a proxy stopped (SIGSTOP) for
// failoverPause around the change: a proxy starved of CPU altogether,
// which makes the race between gateway and east-west gateway updates
// certain instead of a matter of scheduling luck.
type failoverStep struct {
	name                         string
	cluster1Ready, cluster2Ready bool
	want                         string
	paused                       string
}

// failoverPause is how long a paused proxy stays stopped: well below the
// load's 2 s request timeout, well above the time the other proxies take
// to apply a change.
const failoverPause = 700 * time.Millisecond

// failoverChain: cluster-1 → cluster-2 → cluster-3 → back, then the risky
// cluster-2 changes again with one proxy paused: the gateway while
// cluster-2 leaves (cluster-2's east-west gateway must not drop its
// endpoint while the gateway may still send there), cluster-2's east-west
// gateway while cluster-2 returns (the gateway must not send there before
// it has the endpoint).
var failoverChain = []failoverStep{
	{"cluster-1 down: to cluster-2", false, true, "cluster-2", ""},
	{"cluster-2 down: to cluster-3", false, false, "cluster-3", ""},
	{"cluster-2 back: from cluster-3", false, true, "cluster-2", ""},
	{"cluster-2 down, gateway paused", false, false, "cluster-3", failoverProxies[0].Name},
	{"cluster-2 back, east-west 2 paused", false, true, "cluster-2", failoverProxies[1].Name},
	{"cluster-1 back: from cluster-2", true, true, "cluster-1", ""},
}

// stepResult is what one step of one round cost.
type stepResult struct {
	step   string
	moved  time.Duration // world written → first of failoverStreak answers in a row from the new cluster
	failed int
	errors map[string]int // failure text → count
}

// failoverVariant is one way of running the chain: the default (both
// changes on) or with default retries or the handoff turned off, to show
// what each contributes.
type failoverVariant struct {
	short, name          string
	noRetries, noHandoff bool
}

// TestFailoverUnderLoad drives 50 requests/s through the gateway proxy
// while busy loops keep both cores busy, and walks the failover chain
// cluster-1 → cluster-2 → cluster-3 → back, with the cluster-2 changes
// repeated while one proxy is paused (failoverChain): not one request may
// fail.
// With CAUSEWAY_FAILOVER_COMPARE=1 it also runs the chain without default
// retries, without the handoff and without either (the behaviour before
// issue 10), over more rounds, and prints the failures of each for
// comparison (only the default variant's are asserted).
func TestFailoverUnderLoad(t *testing.T) {
	e2eutil.RequireEnvoy(t)
	compare := os.Getenv("CAUSEWAY_FAILOVER_COMPARE") == "1"
	rounds := 1
	variants := []failoverVariant{{short: "default", name: "retries and handoff"}}
	if compare {
		rounds = 3
		variants = append(variants,
			failoverVariant{short: "no-retries", name: "handoff only (no default retries)", noRetries: true},
			failoverVariant{short: "no-handoff", name: "retries only (--handoff-timeout 0)", noHandoff: true},
			failoverVariant{short: "neither", name: "neither (before issue 10)", noRetries: true, noHandoff: true})
	}
	for _, v := range variants {
		t.Run(v.short, func(t *testing.T) {
			results := runFailoverChain(t, v, rounds)
			reportFailover(t, v, results)
			if v.noRetries || v.noHandoff {
				return // a comparison, not a requirement
			}
			for _, r := range results {
				if r.failed > 0 {
					t.Errorf("%s: %d requests failed: %v", r.step, r.failed, r.errors)
				}
			}
		})
	}
}

// runFailoverChain starts the mesh for v, then walks the chain rounds
// times under CPU stress and load.
func runFailoverChain(t *testing.T, v failoverVariant, rounds int) []stepResult {
	running := failoverParams{Cluster1Ready: true, Cluster2Ready: true, NoRetries: v.noRetries}
	spec := meshSpec{world: renderFailoverWorld(running), backends: failoverBackends, proxies: failoverProxies}
	if v.noHandoff {
		spec.serveArgs = []string{"--handoff-timeout", "0"}
	}
	top := startMesh(t, spec)

	// Generous bounds: each step takes a few seconds at most.
	budget := time.Duration(rounds*len(failoverChain))*(failoverHold+15*time.Second) + 30*time.Second
	stopStress := e2eutil.StartCPUStress(t, 2, budget)
	defer stopStress()
	load := e2eutil.StartLoad(t, e2eutil.LoadSpec{
		URL:  fmt.Sprintf("http://%s:%d/", policyGatewayAddress, gatewayPort),
		Host: failoverHost,
		Rate: failoverRate,
		Max:  budget,
		// A slow answer is not a failed one: a paused proxy holds requests
		// for failoverPause, and the machine is busy.
		Timeout:  5 * time.Second,
		Classify: classifyFailover,
	})
	defer load.Stop()
	from := func(cluster string) func(e2eutil.Answer) bool {
		return func(a e2eutil.Answer) bool { return a.Class == cluster }
	}
	if _, _, err := load.AwaitStreak(time.Now(), failoverStreak, from("cluster-1"), 30*time.Second); err != nil {
		t.Fatalf("before the chain, cluster-1: %v", err)
	}

	var results []stepResult
	for round := 1; round <= rounds; round++ {
		for _, st := range failoverChain {
			p := running
			p.Cluster1Ready, p.Cluster2Ready = st.cluster1Ready, st.cluster2Ready
			start := time.Now()
			var resume func()
			if st.paused != "" {
				resume = pauseProxy(t, top.envoys[st.paused])
			}
			writeWorldFile(t, top.worldPath, renderFailoverWorld(p))
			if resume != nil {
				time.Sleep(failoverPause)
				resume()
			}
			_, moved, err := load.AwaitStreak(start, failoverStreak, from(st.want), 20*time.Second)
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, st.name, err)
			}
			time.Sleep(failoverHold)
			r := stepResult{step: fmt.Sprintf("round %d, %s", round, st.name), moved: moved, errors: map[string]int{}}
			for _, a := range load.Answers() { // sent since this step's world change
				if a.Err != "" && !a.At.Before(start) {
					r.failed++
					r.errors[a.Err]++
				}
			}
			results = append(results, r)
		}
	}
	total := load.Stop()
	e2eutil.CheckNoRejectedUpdates(t, top.envoys) // the default retries and circuit breakers included
	gw := top.envoys[failoverProxies[0].Name]
	t.Logf("%s: %s; gateway retries %d (overflow %d), connect failures %d", v.name, total,
		sumStats(t, gw, "|web.mesh.internal.com.upstream_rq_retry"),
		sumStats(t, gw, "|web.mesh.internal.com.upstream_rq_retry_overflow"),
		sumStats(t, gw, "|web.mesh.internal.com.upstream_cx_connect_fail"))
	return results
}

// classifyFailover names the cluster that answered; anything but a
// backend's 200 is a failure.
func classifyFailover(status int, body []byte) (string, error) {
	var r backend.Response
	if err := json.Unmarshal(body, &r); status != 200 || err != nil || r.Cluster == "" {
		return "", fmt.Errorf("%.200s", body)
	}
	return r.Cluster, nil
}

// reportFailover logs each step's time to move and failures, and the
// failures per world change over all steps.
func reportFailover(t *testing.T, v failoverVariant, results []stepResult) {
	failed := 0
	var lines []string
	for _, r := range results {
		failed += r.failed
		line := fmt.Sprintf("  %-45s moved %6v  failed %d", r.step, r.moved.Round(time.Millisecond), r.failed)
		if r.failed > 0 {
			var errs []string
			for e, n := range r.errors {
				errs = append(errs, fmt.Sprintf("%d× %q", n, e))
			}
			sort.Strings(errs)
			line += "  " + strings.Join(errs, "; ")
		}
		lines = append(lines, line)
	}
	t.Logf("%s, under CPU stress at %d requests/s: %d failed requests over %d world changes (%.2f per change)\n%s",
		v.name, failoverRate, failed, len(results), float64(failed)/float64(len(results)), strings.Join(lines, "\n"))
}

// pauseProxy stops e with SIGSTOP; the returned resume (also run by t's
// cleanup, so a failing test never leaves it stopped) sends SIGCONT.
func pauseProxy(t *testing.T, e *envoyrun.Envoy) (resume func()) {
	t.Helper()
	if err := syscall.Kill(e.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	resume = func() { once.Do(func() { _ = syscall.Kill(e.Pid(), syscall.SIGCONT) }) }
	t.Cleanup(resume)
	return resume
}
