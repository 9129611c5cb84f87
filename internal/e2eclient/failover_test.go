package e2eclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// Load figures of the failover test.
const (
	loadRate    = 50 // requests a second
	loadMax     = 90 * time.Second
	streak      = 25 // answers in a row that say traffic has moved
	moveTimeout = 20 * time.Second
	// loadTimeout is generous, as in internal/chaos: on a loaded 2-core
	// machine a request may wait for a core; a 503 or a reset still fails
	// at once, and a stall longer than this counts as a failure.
	loadTimeout = 5 * time.Second
)

// testFailover: an in-cluster client sends 50 requests a second to
// app.global while both cores are kept busy. Cluster-1's instances are
// marked not ready in the world file: answers move to cluster-2 through
// its east-west gateway (mTLS with the client proxy's own identity); then
// they are marked ready again and answers come back. Not one request may
// fail.
func testFailover(t *testing.T, top *topology) {
	ctx := context.Background()
	addr, err := top.pod.resolve(ctx, clientDNS, appHost)
	if err != nil {
		t.Fatal(err)
	}
	top.awaitAnswer(t, top.httpClient(false), appHost, appPort, "first answer", inCluster("cluster-1"))
	load := e2eutil.StartStressedLoad(t, e2eutil.LoadSpec{
		URL:  fmt.Sprintf("http://%s/", net.JoinHostPort(addr.String(), fmt.Sprint(appPort))),
		Host: appHost, Rate: loadRate, Max: loadMax, Timeout: loadTimeout, Dial: top.pod.DialContext,
		Classify: func(status int, body []byte) (string, error) {
			r, err := e2eutil.BackendAnswer(status, body)
			if err != nil {
				return "", err
			}
			return classify(r)
		},
	})
	defer load.Finish()
	is := func(cluster string) func(e2eutil.Answer) bool {
		return func(a e2eutil.Answer) bool { return a.Class == cluster }
	}
	time.Sleep(2 * time.Second)
	steady := load.Count("cluster-2", load.Start, time.Now())

	down := time.Now()
	top.writeWorld(t, worldParams{Cluster1Ready: false})
	firstRemote, remoteStreak, err := load.AwaitStreak(down, streak, is("cluster-2"), moveTimeout)
	if err != nil {
		t.Fatalf("failover: %v", err)
	}
	// A federated hostname names one cluster's Service and does not fail
	// over: with cluster-1's instances down, its name gets 503 while
	// app.global is answered by cluster-2 (seed 001: "workspace-level
	// federation does not do failover").
	fedStatus := map[int]int{}
	for i := 0; i < 5; i++ {
		r, resp, err := top.call(ctx, top.httpClient(false), fedHost1, appPort, "/")
		switch {
		case resp == nil:
			t.Errorf("%s while cluster-1 is down: %v", fedHost1, err)
		case err == nil:
			t.Errorf("%s while cluster-1 is down answered by %s/%s, want 503 (no failover for a federated hostname)", fedHost1, r.Cluster, r.Instance)
		default:
			fedStatus[resp.StatusCode]++
		}
	}
	if fedStatus[http.StatusServiceUnavailable] != 5 {
		t.Errorf("%s while cluster-1 is down: statuses %v, want 5 x 503", fedHost1, fedStatus)
	}
	time.Sleep(3 * time.Second)
	up := time.Now()
	top.writeWorld(t, worldParams{Cluster1Ready: true})
	firstLocal, localStreak, err := load.AwaitStreak(up, streak, is("cluster-1"), moveTimeout)
	if err != nil {
		t.Fatalf("failback: %v", err)
	}
	time.Sleep(2 * time.Second)
	res, slowest := load.Finish()
	remote := load.Count("cluster-2", down, up)
	record(t, res.Total, res.Failed, "%d/s under CPU stress; failover: first cluster-2 answer %s after the world write, streak of %d from %s; "+
		"failback: first cluster-1 answer %s, streak from %s; %d answers from cluster-2 while down; before the change %d from cluster-2; slowest %s; by cluster %v; "+
		"%s while down: statuses %v",
		loadRate, ms(firstRemote), streak, ms(remoteStreak), ms(firstLocal), ms(localStreak), remote, steady, ms(slowest.Took), res.ByClass, fedHost1, fedStatus)
	load.CheckNoFailures(t, res, "failover to cluster-2 and back")
	if steady != 0 {
		t.Errorf("%d answers from cluster-2 while cluster-1 was ready, want none", steady)
	}
}
