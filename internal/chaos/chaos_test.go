package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

const (
	loadRate = 50.0
	// loadTimeout is generous: on a loaded 2-core machine a request may
	// wait for a core; a stall longer than this counts as a failure.
	loadTimeout = 5 * time.Second
	// scenarioMax bounds each scenario's load and CPU stress.
	scenarioMax = 3 * time.Minute
	// changeTimeout bounds waiting for a world change to show.
	changeTimeout = 30 * time.Second
)

// TestChaos runs the single-replica scenarios on one mesh, in order; the
// ConfigMap swap comes last, as it moves serve to a symlinked world.
func TestChaos(t *testing.T) {
	logFigures(t)
	top := startTopology(t, 1)
	t.Run("FailoverChain", func(t *testing.T) { testFailoverChain(t, top) })
	t.Run("FailoverPausedProxy", func(t *testing.T) { testFailoverPausedProxy(t, top) })
	t.Run("ServeKillRestart", func(t *testing.T) { testServeKillRestart(t, top) })
	t.Run("WorldFile", func(t *testing.T) { testWorldFileMethods(t, top) })
}

// underChaos keeps both cores busy and sends loadRate requests a second
// through the gateway while fn runs, then checks that none failed and
// records the figures, with fn's notes.
func underChaos(t *testing.T, top *topology, scenario string, fn func(load *e2eutil.Load) string) {
	t.Helper()
	load := e2eutil.StartStressedLoad(t, e2eutil.LoadSpec{
		URL:      fmt.Sprintf("http://%s:%d%s", gatewayAddress, gatewayPort, loadPath),
		Host:     host,
		Rate:     loadRate,
		Max:      scenarioMax,
		Timeout:  loadTimeout,
		Classify: classify,
	})
	notes := "(aborted: see the error above)"
	// Deferred, so an aborted scenario still reports what its traffic saw.
	defer func() {
		r, _ := load.Finish()
		record(t, scenario, r, notes)
		t.Logf("%s: %v; %s", scenario, r, notes)
		if r.Failed > 0 {
			t.Errorf("%s: %d of %d requests failed, want none:\n%s", scenario, r.Failed, r.Total, r.FailureLines(load.Start))
			t.Logf("gateway retry counters: %s", top.retryStats())
		}
		if r.Total < int(loadRate) {
			t.Errorf("%s: only %d requests sent: the load generator did not run", scenario, r.Total)
		}
	}()
	notes = fn(load.Load)
	// Late failures (a drain, a reconnect) count too.
	time.Sleep(time.Second)
}

// writeRename replaces path atomically: a temporary file in the same
// directory renamed over it.
func writeRename(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// setWorld writes p atomically and remembers it.
func (top *topology) setWorld(t *testing.T, p worldParams) {
	t.Helper()
	writeRename(t, top.worldPath, renderWorld(p))
	top.world = p
}

// nextGen is the current world with the next generation number.
func (top *topology) nextGen() worldParams {
	p := top.world
	p.Gen++
	return p
}

// failoverRounds is how often the chain runs: each round has two changes
// that can lose requests (cluster-2's east-west gateway dropping its
// endpoints, and getting them back), so one round could pass by luck.
const failoverRounds = 3

// testFailoverChain: cluster-1, then cluster-2 not ready (traffic moves
// c1 → c2 → c3), then back in reverse order, each change a world write,
// failoverRounds times.
func testFailoverChain(t *testing.T, top *topology) {
	steps := []struct {
		name  string
		ready [3]bool
		want  string
	}{
		{"failover c1→c2", [3]bool{false, true, true}, "cluster-2"},
		{"failover c2→c3", [3]bool{false, false, true}, "cluster-3"},
		{"failback c3→c2", [3]bool{false, true, true}, "cluster-2"},
		{"failback c2→c1", [3]bool{true, true, true}, "cluster-1"},
	}
	underChaos(t, top, fmt.Sprintf("failover chain c1→c2→c3→c2→c1 x%d", failoverRounds), func(load *e2eutil.Load) string {
		// A streak before the first change shows the load is steady.
		if _, _, err := load.AwaitStreak(time.Now(), 50, func(a e2eutil.Answer) bool { return a.Class == "cluster-1" }, changeTimeout); err != nil {
			t.Fatalf("before any change: %v", err)
		}
		maxFirst := make([]time.Duration, len(steps))
		maxStreak := make([]time.Duration, len(steps))
		for round := 1; round <= failoverRounds; round++ {
			for i, s := range steps {
				p := top.nextGen()
				p.Ready = s.ready
				top.setWorld(t, p)
				changed := time.Now()
				failedBefore := failedSince(load, time.Time{})
				// 25 answers in a row: half a second of traffic.
				first, streak, err := load.AwaitStreak(changed, 25, func(a e2eutil.Answer) bool { return a.Class == s.want }, changeTimeout)
				if err != nil {
					t.Fatalf("round %d, %s: %v", round, s.name, err)
				}
				time.Sleep(time.Second) // let the change settle under load
				t.Logf("round %d, %s: first answer from %s %v after the write, streak of 25 from %v; %d requests failed",
					round, s.name, s.want, ms(first), ms(streak), failedSince(load, time.Time{})-failedBefore)
				maxFirst[i], maxStreak[i] = max(maxFirst[i], first), max(maxStreak[i], streak)
			}
		}
		notes := "max first/streak:"
		for i, s := range steps {
			notes += fmt.Sprintf(" %s %v/%v", s.name, ms(maxFirst[i]), ms(maxStreak[i]))
		}
		return notes
	})
}

// testFailoverPausedProxy is the failover chain's risky changes with one
// proxy starved of CPU altogether: SIGSTOP for a second around the world
// write, then SIGCONT. Without ordering (or retries) between the ingress
// gateway and the east-west gateways, the one that is not paused acts
// alone meanwhile:
//
//   - c2→c3 with the ingress gateway paused: cluster-2's east-west gateway
//     drops its listener while the ingress gateway, once resumed, still
//     sends the requests that queued up to it;
//   - c3→c2 with cluster-2's east-west gateway paused: the ingress gateway
//     sends to it before it has a listener again.
func testFailoverPausedProxy(t *testing.T, top *topology) {
	steps := []struct {
		name, paused string
		before, now  [3]bool
		want         string
	}{
		{"failover c2→c3, ingress gateway paused", "gateway-c1", [3]bool{false, true, true}, [3]bool{false, false, true}, "cluster-3"},
		{"failback c3→c2, east-west c2 paused", "eastwest-c2", [3]bool{false, false, true}, [3]bool{false, true, true}, "cluster-2"},
	}
	underChaos(t, top, "failover with a proxy paused 1s (x2)", func(load *e2eutil.Load) string {
		notes := "first/streak after SIGCONT:"
		for _, s := range steps {
			p := top.nextGen()
			p.Ready = s.before
			top.setWorld(t, p)
			if _, err := top.awaitGen(p.Gen, changeTimeout); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)

			stepStart := time.Now()
			resume := pause(t, top.envoys[s.paused])
			p = top.nextGen()
			p.Ready = s.now
			top.setWorld(t, p)
			time.Sleep(time.Second)
			resume()
			resumed := time.Now()
			first, streak, err := load.AwaitStreak(resumed, 25, func(a e2eutil.Answer) bool { return a.Class == s.want }, changeTimeout)
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			failed := failedSince(load, stepStart)
			t.Logf("%s: first answer from %s %v after SIGCONT, streak of 25 from %v; %d requests failed", s.name, s.want, ms(first), ms(streak), failed)
			notes += fmt.Sprintf(" %s %v/%v, %d failed;", s.name, ms(first), ms(streak), failed)
		}
		top.setWorld(t, allReady(top.world.Gen+1))
		if _, err := top.awaitGen(top.world.Gen, changeTimeout); err != nil {
			t.Fatal(err)
		}
		return notes
	})
	top.awaitCluster(t, "cluster-1", changeTimeout)
}

// retryStats are the gateway's retry counters for the echo cluster (tries,
// successes, and retries refused by the circuit breaker or budget), for a
// failure message.
func (top *topology) retryStats() string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	stats, err := top.envoys["gateway-c1"].Stats(ctx)
	if err != nil {
		return err.Error()
	}
	var out []string
	for k, v := range stats {
		if strings.Contains(k, "echo.mesh.internal.com") && strings.Contains(k, "upstream_rq_retry") {
			out = append(out, fmt.Sprintf("%s=%d", k[strings.LastIndexByte(k, '.')+1:], v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// failedSince counts the failed requests sent since from.
func failedSince(load *e2eutil.Load, from time.Time) int {
	n := 0
	for _, a := range load.Answers() {
		if a.Err != "" && !a.At.Before(from) {
			n++
		}
	}
	return n
}

// pause stops e with SIGSTOP; the returned resume (also run by t's
// cleanup, so a failed test never leaves it stopped) sends SIGCONT.
func pause(t *testing.T, e *envoyrun.Envoy) (resume func()) {
	t.Helper()
	if err := syscall.Kill(e.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	resume = func() { once.Do(func() { _ = syscall.Kill(e.Pid(), syscall.SIGCONT) }) }
	t.Cleanup(resume)
	return resume
}

// testServeKillRestart: SIGKILL to serve, then the same command again (same
// --ca-dir, same world). The Envoys keep serving from their last config,
// reconnect, and take a later world change.
func testServeKillRestart(t *testing.T, top *topology) {
	r := top.replicas[0]
	underChaos(t, top, "serve kill -9 and restart", func(load *e2eutil.Load) string {
		time.Sleep(time.Second)
		killed := time.Now()
		if err := r.proc.Kill(); err != nil {
			t.Fatal(err)
		}
		if _, err := top.awaitConnectedState(0, killed, 10*time.Second); err != nil {
			t.Fatalf("after serve was killed: %v", err)
		}
		// A second of outage, as a crash-looping pod's restart would have.
		time.Sleep(time.Second)
		restarted := time.Now()
		top.startReplica(t, r)
		reconnect, err := top.awaitConnectedState(1, restarted, changeTimeout)
		if err != nil {
			t.Fatalf("after serve restarted: %v", err)
		}
		t.Logf("every Envoy reconnected %v after serve was started again (%v after the kill)", ms(reconnect), ms(time.Since(killed)))
		// Traffic for a while on the restarted serve's first push.
		time.Sleep(2 * time.Second)
		p := top.nextGen()
		top.setWorld(t, p)
		applied, err := top.awaitGen(p.Gen, changeTimeout)
		if err != nil {
			t.Fatalf("after the restart: %v", err)
		}
		return fmt.Sprintf("reconnect %v after restart; next world change routed in %v", ms(reconnect), ms(applied))
	})
}

// TestChaosReplicaKilled: two serve replicas on one CA and world, the
// Envoys bootstrapped with both addresses. The replica they use gets
// SIGKILL; they move to the other, which then delivers a world change.
func TestChaosReplicaKilled(t *testing.T) {
	logFigures(t)
	top := startTopology(t, 2)
	byReplica := func() (map[string]int, error) {
		out := map[string]int{}
		for _, r := range top.replicas {
			if r.proc.Exited() {
				continue
			}
			n, err := r.connectedProxies()
			if err != nil {
				return nil, err
			}
			out[r.name] = n
		}
		return out, nil
	}
	var before map[string]int
	if err := e2eutil.Eventually(changeTimeout, 100*time.Millisecond, func() error {
		var err error
		if before, err = byReplica(); err != nil {
			return err
		}
		if sum := before["serve-1"] + before["serve-2"]; sum != len(proxies) {
			return fmt.Errorf("connected proxies by replica %v, want %d in all", before, len(proxies))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	victim := top.replicas[0]
	if before["serve-2"] > before["serve-1"] {
		victim = top.replicas[1]
	}
	t.Logf("connected proxies by replica: %v; killing %s", before, victim.name)
	underChaos(t, top, "replica killed (2 replicas)", func(load *e2eutil.Load) string {
		time.Sleep(time.Second)
		killed := time.Now()
		if err := victim.proc.Kill(); err != nil {
			t.Fatal(err)
		}
		reconnect, err := top.awaitConnectedState(1, killed, changeTimeout)
		if err != nil {
			t.Fatalf("after %s was killed: %v", victim.name, err)
		}
		var after map[string]int
		if err := e2eutil.Eventually(10*time.Second, 100*time.Millisecond, func() error {
			var err error
			if after, err = byReplica(); err != nil {
				return err
			}
			for name, n := range after {
				if n != len(proxies) {
					return fmt.Errorf("connected proxies %v: want all %d on %s", after, len(proxies), name)
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("after %s was killed: %v", victim.name, err)
		}
		t.Logf("every Envoy connected again %v after %s was killed: %v", ms(reconnect), victim.name, after)
		p := top.nextGen()
		top.setWorld(t, p)
		applied, err := top.awaitGen(p.Gen, changeTimeout)
		if err != nil {
			t.Fatalf("after %s was killed: %v", victim.name, err)
		}
		return fmt.Sprintf("reconnect to the other replica %v after the kill; next world change routed in %v", ms(reconnect), ms(applied))
	})
}
