package e2esec

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// TestLeafRotationUnderTraffic: with --cert-ttl 10s (the least serve
// accepts) every proxy certificate is renewed every 5 s over SDS. For 22 s,
// 50 requests a second go through gateway → east-west → backend with both
// cores busy; every one must succeed while the gateway's client
// certificate and the east-west gateway's serving certificate, the two
// ends of the mTLS hop, change several times.
func TestLeafRotationUnderTraffic(t *testing.T) {
	const ttl, window = 10 * time.Second, 22 * time.Second
	top := startTopology(t, "--cert-ttl", ttl.String())
	leaves := map[string]*leafSeries{}
	for _, p := range []proxy{gatewayProxy, eastWestProxy} {
		leaves[p.name] = &leafSeries{}
	}
	tr := startTraffic(t, window+10*time.Second)
	for time.Since(tr.Start) < window {
		for name, l := range leaves {
			chain, err := presented(top.envoys[name])
			if err != nil {
				t.Fatal(err)
			}
			l.observe(chain, time.Since(tr.Start))
		}
		time.Sleep(250 * time.Millisecond)
	}
	res, slowest := tr.Finish()
	gw, ew := leaves[gatewayProxy.name], leaves[eastWestProxy.name]
	t.Logf("leaf rotation, --cert-ttl %v, %d cores busy:\n"+
		"  %-10s %-8s %-9s %-12s %-25s %s\n  %-10v %-8d %-9d %-12v %-25v %v",
		ttl, runtime.NumCPU(), "window", "requests", "failures", "slowest", "gateway renewals at", "east-west renewals at",
		res.Elapsed.Round(time.Second), res.Total, res.Failed, slowest.Took.Round(time.Millisecond), gw, ew)
	tr.CheckNoFailures(t, res, "leaf rotation")
	// Renewal at half of 10 s: about four in 22 s; two show it happens
	// under load and leave room for a slow start.
	for name, l := range leaves {
		if len(l.renewals) < 2 {
			t.Errorf("%s: certificate serials seen over %v: %v, want at least 2 renewals (at half of %v)", name, window, l.serials, ttl)
		}
	}
}

// leafSeries is what one Envoy presented over time: the certificates of
// the first look (its leaf and, with xDS over TLS, the bootstrap's client
// certificate), then each new one, a renewal, with when it was first seen.
type leafSeries struct {
	seen     map[string]bool
	serials  []string
	renewals []time.Duration
}

func (l *leafSeries) observe(chain map[string]bool, at time.Duration) {
	first := l.seen == nil
	if first {
		l.seen = map[string]bool{}
	}
	for _, s := range slices.Sorted(maps.Keys(chain)) {
		if !l.seen[s] {
			l.seen[s] = true
			l.serials = append(l.serials, s)
			if !first {
				l.renewals = append(l.renewals, at)
			}
		}
	}
}

// String lists when the renewals were seen, from the start of the load.
func (l *leafSeries) String() string {
	out := []string{fmt.Sprint(len(l.renewals)) + ":"}
	for _, at := range l.renewals {
		out = append(out, fmt.Sprintf("%.1fs", at.Seconds()))
	}
	return strings.Join(out, " ")
}

// TestRootRotation rotates the CA root from A to B the documented way,
// restarting causeway serve for each step while traffic flows:
//  1. A signs, B in trust-bundle.pem: every proxy learns to trust B;
//  2. B signs, A in the bundle: leaves re-issue from B; leaves of A and
//     B are both accepted (the overlap);
//  3. B alone: a leaf of A is refused, B's accepted.
//
// xDS itself runs in plaintext here when serve has --xds-insecure: a
// proxy's xDS client certificate is a bootstrap file Envoy reads once, so
// rotating it means re-issuing it and restarting the proxy — another
// procedure. This test is about the mesh roots delivered over SDS.
func TestRootRotation(t *testing.T) {
	var args []string
	if xdsTLS {
		args = append(args, "--xds-insecure")
	}
	top := startTopology(t, args...)
	ew := top.envoys[eastWestProxy.name]
	rootA := readFile(t, filepath.Join(top.caDir, ca.RootCertFile))
	authA, err := ca.LoadOrCreate(top.caDir, trustDomain)
	if err != nil {
		t.Fatal(err)
	}
	dirB := t.TempDir()
	authB, err := ca.LoadOrCreate(dirB, trustDomain)
	if err != nil {
		t.Fatal(err)
	}
	rootB := readFile(t, filepath.Join(dirB, ca.RootCertFile))
	serialA, serialB := serial(pemCert(t, rootA)), serial(pemCert(t, rootB))
	gatewayID := authA.SpiffeID("gateway", "cluster-1")
	leafA, leafB := issue(t, authA, gatewayID), issue(t, authB, gatewayID)
	bundle := filepath.Join(top.caDir, ca.TrustBundleFile)

	// Three restarts, each bounded by startCauseway and awaitRoots.
	tr := startTraffic(t, 3*time.Minute)
	// 1. A signs, B is trusted too.
	top.restartCauseway(t, func() { writeFile(t, bundle, rootB) })
	awaitRoots(t, top, map[string]bool{serialA: true, serialB: true}, "step 1 (A signs, B in the bundle)")
	awaitAnswers(t, tr, "step 1")
	before := chainSerials(t, top)

	// 2. B signs, A stays trusted.
	top.restartCauseway(t, func() {
		writeFile(t, filepath.Join(top.caDir, ca.RootKeyFile), readFile(t, filepath.Join(dirB, ca.RootKeyFile)))
		writeFile(t, filepath.Join(top.caDir, ca.RootCertFile), rootB)
		writeFile(t, bundle, rootA)
	})
	awaitRoots(t, top, map[string]bool{serialA: true, serialB: true}, "step 2 (B signs, A in the bundle)")
	awaitNewLeaves(t, top, before, "step 2")
	awaitAnswers(t, tr, "step 2")
	for name, leaf := range map[string]*tls.Certificate{"leaf of A": leafA, "leaf of B": leafB} {
		if status, err := eastWestGET(leaf); err != nil || status != 200 {
			t.Errorf("overlap: gateway %s: status %d, err %v; want 200", name, status, err)
		}
	}

	// 3. B alone.
	top.restartCauseway(t, func() {
		if err := os.Remove(bundle); err != nil {
			t.Fatal(err)
		}
	})
	awaitRoots(t, top, map[string]bool{serialB: true}, "step 3 (B alone)")
	awaitAnswers(t, tr, "step 3")
	if status, err := eastWestGET(leafB); err != nil || status != 200 {
		t.Errorf("after the rotation: gateway leaf of B: status %d, err %v; want 200", status, err)
	}
	refusedBefore := sumStats(t, ew, ".ssl.fail_verify_error")
	if status, err := eastWestGET(leafA); err == nil {
		t.Errorf("after A left the bundle: gateway leaf of A got HTTP %d, want the connection refused", status)
	} else if after := sumStats(t, ew, ".ssl.fail_verify_error"); after <= refusedBefore {
		t.Errorf("leaf of A refused (%v) but *.ssl.fail_verify_error stayed at %d", err, after)
	}
	res, slowest := tr.Finish()
	t.Logf("root rotation (3 control-plane restarts), %d cores busy:\n  %-10s %-8s %-9s %s\n  %-10v %-8d %-9d %v",
		runtime.NumCPU(), "took", "requests", "failures", "slowest",
		res.Elapsed.Round(100*time.Millisecond), res.Total, res.Failed, slowest.Took.Round(time.Millisecond))
	tr.CheckNoFailures(t, res, "the root rotation")
	e2eutil.CheckNoRejectedUpdates(t, top.envoys)
}

// awaitRoots waits until both Envoys trust exactly want (root serials).
func awaitRoots(t *testing.T, top *topology, want map[string]bool, step string) {
	t.Helper()
	start := time.Now()
	err := e2eutil.Eventually(20*time.Second, 100*time.Millisecond, func() error {
		for name, e := range top.envoys {
			roots, err := trustedRoots(e)
			if err != nil {
				return err
			}
			if !maps.Equal(roots, want) {
				return fmt.Errorf("%s trusts %v, want %v", name, slices.Sorted(maps.Keys(roots)), slices.Sorted(maps.Keys(want)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	t.Logf("%s: both Envoys trust the new roots %v after the restart", step, time.Since(start).Round(10*time.Millisecond))
}

// awaitAnswers waits for half a second's worth of answers in a row sent
// from now on, so the traffic crosses the mTLS hop in every step's
// configuration and not only during the restarts.
func awaitAnswers(t *testing.T, tr *e2eutil.StressedLoad, step string) {
	t.Helper()
	if _, _, err := tr.AwaitStreak(time.Now(), trafficRate/2, func(e2eutil.Answer) bool { return true }, 20*time.Second); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// chainSerials are the serials both Envoys present.
func chainSerials(t *testing.T, top *topology) map[string]bool {
	t.Helper()
	all := map[string]bool{}
	for _, e := range top.envoys {
		chain, err := presented(e)
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(all, chain)
	}
	return all
}

// awaitNewLeaves waits until neither Envoy presents a certificate of old.
func awaitNewLeaves(t *testing.T, top *topology, old map[string]bool, step string) {
	t.Helper()
	err := e2eutil.Eventually(20*time.Second, 100*time.Millisecond, func() error {
		for s := range chainSerials(t, top) {
			if old[s] {
				return fmt.Errorf("an Envoy still presents certificate %s", s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

func pemCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
