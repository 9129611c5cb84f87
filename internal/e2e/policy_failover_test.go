package e2e

import (
	"testing"
	"time"
)

// testOutlier: details has one instance per cluster and an
// OutlierDetectionPolicy (3 consecutive errors, interval 1s, base ejection
// 3s). The policy alone turns locality priority on, so cluster-1's
// instance gets everything; once it answers 503, Envoy ejects it after 3
// errors and, with the panic threshold at 0, sends traffic to the next
// priority (cluster-2 and -3, both in other regions) instead of back into
// the ejected host. The instance, healthy again, returns once the ejection
// time is over (at the next interval tick).
func testOutlier(t *testing.T, top *topology) {
	const path = "/details"
	interval := outlierIntervalSeconds * time.Second
	base := outlierBaseEjectionSecs * time.Second
	// Without locality priority all three clusters would answer: 20 direct
	// answers in a row would be a 1 in 3^20 accident.
	awaitPolicyStreak(t, path, time.Now(), 20*time.Second, "cluster-1's details straight from the gateway", directFrom)

	failing := top.backends["details-c1"]
	failing.SetFailStatus(503)
	defer failing.Reset()

	var failures int
	var firstFailure, ejected time.Time
	for deadline := time.Now().Add(5 * time.Second); ejected.IsZero(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("details-c1 answered 503 %d times and was still not ejected after 5s", failures)
		}
		a, err := policyGet(path)
		switch {
		case err != nil:
			t.Fatal(err)
		case a.status == 503 && a.fromBackend && a.backend.Instance == "details-c1":
			if failures++; failures == 1 {
				firstFailure = time.Now()
			}
		case remote(a) && failures > 0:
			ejected = time.Now()
		default:
			t.Fatalf("after details-c1 started failing: %s, want its 503 or a 200 from cluster-2/-3", a)
		}
	}
	took := ejected.Sub(firstFailure)
	t.Logf("details-c1 ejected after %d answers of 503; next priority answered %v after the first 503", failures, took.Round(time.Millisecond))
	if failures != outlierConsecutiveErrors {
		t.Errorf("clients saw %d 503s before the ejection, want consecutiveErrors = %d", failures, outlierConsecutiveErrors)
	}
	if took > interval {
		t.Errorf("traffic moved %v after the first 503, want within the interval %v", took, interval)
	}

	// Healthy again, but ejected: it must not answer before the ejection
	// time is over, and must answer soon after (at an interval tick).
	failing.Reset()
	var back time.Time
	var remotes int
	for deadline := ejected.Add(base + interval + 2*time.Second); back.IsZero(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("details-c1 did not return within %v of its ejection (%d answers from cluster-2/-3)", base+interval+2*time.Second, remotes)
		}
		a, err := policyGet(path)
		switch {
		case err != nil:
			t.Fatal(err)
		case directFrom(a):
			back = time.Now()
		case remote(a):
			remotes++
		default:
			t.Fatalf("while details-c1 is ejected: %s, want a 200 from cluster-2/-3", a)
		}
	}
	returned := back.Sub(ejected)
	t.Logf("details-c1 answered again %v after its ejection (base ejection time %v, interval %v; %d answers from cluster-2/-3 meanwhile)",
		returned.Round(time.Millisecond), base, interval, remotes)
	if returned < base-100*time.Millisecond {
		t.Errorf("details-c1 returned %v after its ejection, before the base ejection time %v", returned, base)
	}
	if returned > base+interval+time.Second {
		t.Errorf("details-c1 returned %v after its ejection, want by base ejection time + interval (%v) and a second's slack", returned, base+interval)
	}
	awaitPolicyStreak(t, path, time.Now(), 5*time.Second, "cluster-1's details again", directFrom)
}

// testFailoverMapping: products has a FailoverPolicy mapping us-east to
// eu-west. When cluster-1's (us-east) instances are not ready, all of the
// gateway's traffic goes to cluster-3 (eu-west) and none to cluster-2
// (us-west), which without the mapping would share that priority.
func testFailoverMapping(t *testing.T, top *topology, running policyParams) {
	const path = "/products"
	awaitPolicyStreak(t, path, time.Now(), 10*time.Second, "cluster-1's products straight from the gateway", directFrom)

	down := running
	down.Cluster1ProductsReady = false
	writeWorldFile(t, top.worldPath, renderPolicyWorld(down))
	defer writeWorldFile(t, top.worldPath, renderPolicyWorld(running))
	start := time.Now()
	took := awaitPolicyStreak(t, path, start, 10*time.Second, "answers from cluster-3 via its east-west gateway", viaEastWestOf(3))
	t.Logf("failover to cluster-3: %v after the world file was written", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("failover took %v, want <= 2s", took)
	}
	const n = 100
	byInstance := countAnswers(t, path, n, "a 200 from products-c3 via cluster-3's east-west gateway", viaEastWestOf(3),
		func(a answer) string { return a.backend.Instance })
	t.Logf("%d requests with cluster-1 down: %v", n, byInstance)

	writeWorldFile(t, top.worldPath, renderPolicyWorld(running))
	start = time.Now()
	took = awaitPolicyStreak(t, path, start, 10*time.Second, "cluster-1's products again", directFrom)
	t.Logf("return to cluster-1: %v after the world file was written", took.Round(time.Millisecond))
}
