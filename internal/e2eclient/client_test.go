package e2eclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// TestInClusterClient runs the seed scenarios that start with "the client
// in cluster-1 calls ..." on one topology (doc.go). The subtests run in
// order; each leaves the world and the backends as it found them.
func TestInClusterClient(t *testing.T) {
	top := startTopology(t)
	t.Run("ResolveAndCallLocally", func(t *testing.T) { testResolveAndCallLocally(t, top) })
	t.Run("OutlierPolicyKeepsTrafficLocal", func(t *testing.T) { testOutlierKeepsLocal(t, top) })
	t.Run("FederatedHostnames", func(t *testing.T) { testFederatedHostnames(t, top) })
	t.Run("RouteSplits8020", func(t *testing.T) { testRouteSplit(t, top) })
	t.Run("UnrelatedNamesNotAnswered", func(t *testing.T) { testUnrelatedNames(t, top) })
	t.Run("Protocols", func(t *testing.T) { testProtocols(t, top) })
	t.Run("ClientIdentity", func(t *testing.T) { testClientIdentity(t, top) })
	t.Run("FailoverThroughEastWest", func(t *testing.T) { testFailover(t, top) })
	t.Run("NoEnvoyRejectedAnUpdate", func(t *testing.T) { e2eutil.CheckNoRejectedUpdates(t, top.envoys) })
}

// expectedPeer is who connects to a cluster's backends for the client
// proxy of cluster-1: the client proxy itself, or cluster-2's east-west
// gateway.
var expectedPeer = map[string]string{
	"cluster-1": clientAddress,
	"cluster-2": eastWest2,
}

// classify names an answer by the cluster that answered; an answer that
// came through any other hop is an error.
func classify(r backend.Response) (string, error) {
	if peer := peerHost(r.Peer); peer != expectedPeer[r.Cluster] {
		return "", fmt.Errorf("%s/%s answered with peer %s, want %s", r.Cluster, r.Instance, peer, expectedPeer[r.Cluster])
	}
	return r.Cluster, nil
}

// tally counts answers by cluster and by instance, and failures.
type tally struct {
	requests, failed int
	byCluster        map[string]int
	byInstance       map[string]int
	firstFailure     string
}

func newTally() *tally { return &tally{byCluster: map[string]int{}, byInstance: map[string]int{}} }

func (tl *tally) add(r backend.Response, err error) {
	tl.requests++
	if err == nil {
		_, err = classify(r)
	}
	if err != nil {
		if tl.failed++; tl.firstFailure == "" {
			tl.firstFailure = err.Error()
		}
		return
	}
	tl.byCluster[r.Cluster]++
	tl.byInstance[r.Instance]++
}

func (tl *tally) String() string {
	s := fmt.Sprintf("%d requests, %d failed, clusters %v, instances %s", tl.requests, tl.failed, tl.byCluster, sortedCounts(tl.byInstance))
	if tl.firstFailure != "" {
		s += "; first failure: " + tl.firstFailure
	}
	return s
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// send makes n calls to host:port (resolved through the proxy's DNS each
// time) and tallies them.
func (top *topology) send(ctx context.Context, c *http.Client, host string, port, n int) *tally {
	tl := newTally()
	for i := 0; i < n; i++ {
		r, _, err := top.call(ctx, c, host, port, "/")
		tl.add(r, err)
	}
	return tl
}

// awaitAnswer waits until a call to host is answered as want says: the
// client proxy may still be receiving its configuration.
func (top *topology) awaitAnswer(t *testing.T, c *http.Client, host string, port int, what string, want func(backend.Response) bool) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	err := e2eutil.Eventually(30*time.Second, 100*time.Millisecond, func() error {
		r, _, err := top.call(context.Background(), c, host, port, "/")
		if err == nil {
			if _, err = classify(r); err == nil && !want(r) {
				err = fmt.Errorf("answered by %s/%s", r.Cluster, r.Instance)
			}
		}
		if err != nil {
			last = err.Error()
		}
		return err
	})
	if err != nil {
		t.Fatalf("%s: no call to %s answered as wanted within 30s; last: %s", what, host, last)
	}
	return time.Since(start)
}

func inCluster(name string) func(backend.Response) bool {
	return func(r backend.Response) bool { return r.Cluster == name }
}

func testResolveAndCallLocally(t *testing.T, top *topology) {
	ctx := context.Background()
	addr, err := top.pod.resolve(ctx, clientDNS, appHost)
	if err != nil {
		t.Fatal(err)
	}
	if addr.String() != clientAddress {
		t.Fatalf("%s resolved to %s through the client proxy's DNS, want the proxy's address %s", appHost, addr, clientAddress)
	}
	// An application's stub resolver (Go's, asking A and AAAA at once)
	// gets the same single address.
	stub := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return top.pod.DialContext(ctx, network, clientDNS)
	}}
	if addrs, err := stub.LookupHost(ctx, appHost); err != nil || len(addrs) != 1 || addrs[0] != clientAddress {
		t.Errorf("Go's resolver in the pod, server %s: LookupHost(%s) = %v, %v; want [%s]", clientDNS, appHost, addrs, err, clientAddress)
	}
	c := top.httpClient(false)
	took := top.awaitAnswer(t, c, appHost, appPort, "first answer", inCluster("cluster-1"))
	const n = 50
	tl := top.send(ctx, c, appHost, appPort, n)
	record(t, tl.requests, tl.failed, "%s -> %s; first answer %s after the proxies were ready; clusters %v, instances %s",
		appHost, addr, ms(took), tl.byCluster, sortedCounts(tl.byInstance))
	if tl.failed > 0 || tl.byCluster["cluster-1"] != n {
		t.Errorf("%s: want all %d answered by cluster-1 through the client proxy: %s", appHost, n, tl)
	}
	if len(tl.byInstance) < 2 {
		t.Errorf("%s: %d calls answered by %d instance(s), want the four cluster-1 instances shared: %s", appHost, n, len(tl.byInstance), tl)
	}
}
