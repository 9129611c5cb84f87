package e2ekube

import (
	"fmt"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// testClusterSecret: cluster-2 registered by a Secret leaves with the
// Secret and comes back with it.
func (s *suite) testClusterSecret(t *testing.T) {
	s.gw1.await(t, convergeWithin, "baseline", equals(baseline1()...))

	start := time.Now()
	s.deleteClusterSecret(t)
	u := s.gw1.await(t, convergeWithin, "Secret deleted: cluster-2's endpoints gone",
		equals(group(0, c1Locality, local(v1Address), local(v2Address))...))
	t.Logf("Secret deleted: cluster-2 left EDS %v later", u.at.Sub(start).Round(time.Millisecond))

	start = time.Now()
	s.applyClusterSecret(t, s.cluster2Original)
	u = s.gw1.await(t, convergeWithin, "Secret added: cluster-2's endpoints back", equals(baseline1()...))
	t.Logf("Secret added: cluster-2 in EDS %v later", u.at.Sub(start).Round(time.Millisecond))
}

// testClusterSecretRotation: rotating the Secret's kubeconfig (other
// credentials, reaching the API server through a forwarder so the test can
// see which kubeconfig is in use) never drops cluster-2's endpoints, the
// new client follows the cluster, and the old one stops.
func (s *suite) testClusterSecretRotation(t *testing.T) {
	s.gw1.await(t, convergeWithin, "baseline", equals(baseline1()...))
	fwd := startForwarder(t, hostPort(t, s.env.Cluster("cluster-2").Config.Host))
	rotated := s.cluster2Kubeconfig(t, "https://"+fwd.addr())
	mark := s.gw1.mark()
	start := time.Now()
	s.applyClusterSecret(t, rotated)
	if err := e2eutil.Eventually(convergeWithin, 50*time.Millisecond, func() error {
		if n := fwd.connections(); n == 0 {
			return fmt.Errorf("no connection through the rotated kubeconfig's server %s", fwd.addr())
		}
		return nil
	}); err != nil {
		t.Fatalf("rotation: %v", err)
	}
	t.Logf("rotation: first connection with the new kubeconfig %v after the Secret update", time.Since(start).Round(time.Millisecond))
	// A change in cluster-2 after the rotation must arrive, carried by the
	// rotated client's watch through the forwarder (the positive control
	// for the check after rotating back).
	time.Sleep(time.Second) // rotation settled: the new client watches
	before := fwd.bytesDown()
	s.c2.apply(t, render(cluster2Template, workloads{V1Ready: true, V2Ready: true, V3b: true}))
	s.gw1.await(t, convergeWithin, "after rotation: a second cluster-2 endpoint",
		equals(concat(
			group(0, c1Locality, local(v1Address), local(v2Address)),
			group(1, c2Locality, viaEastWest(cluster2EastWest, 2)))...))
	if fwd.bytesDown() == before {
		t.Errorf("after rotation: the change in cluster-2 reached Causeway without a byte through the rotated kubeconfig's server")
	}
	s.c2.apply(t, render(cluster2Template, allReady))
	s.gw1.await(t, convergeWithin, "after rotation: back to one cluster-2 endpoint", equals(baseline1()...))
	// Rotate back while the forwarder still runs: a second rotation, and
	// the next test starts from the original Secret.
	s.applyClusterSecret(t, s.cluster2Original)
	s.c2.apply(t, render(cluster2Template, workloads{V1Ready: true, V2Ready: true, V3b: true}))
	s.gw1.await(t, convergeWithin, "rotated back: a second cluster-2 endpoint",
		equals(concat(
			group(0, c1Locality, local(v1Address), local(v2Address)),
			group(1, c2Locality, viaEastWest(cluster2EastWest, 2)))...))
	// The client of the rotated-away kubeconfig must be stopped: once the
	// rotation settled (it takes milliseconds; a second is ample), a change
	// in cluster-2 sends nothing through the forwarder. (An idle pooled
	// connection may stay open until client-go's idle timeout; only a
	// watch would carry the change.)
	time.Sleep(time.Second)
	before = fwd.bytesDown()
	s.c2.apply(t, render(cluster2Template, allReady))
	s.gw1.await(t, convergeWithin, "rotated back: one cluster-2 endpoint", equals(baseline1()...))
	time.Sleep(200 * time.Millisecond) // let a watch event through the forwarder, should one be on its way
	if after := fwd.bytesDown(); after != before {
		t.Errorf("rotated back: %d bytes reached a client through the rotated-away kubeconfig's server after a change in cluster-2: the old client still watches",
			after-before)
	}
	t.Logf("rotation: %d connections through the forwarder, %d still open (idle) after rotating back",
		fwd.connections(), fwd.openConns())
	updates := s.gw1.since(mark)
	for _, u := range updates {
		if u.cla == nil || !hasAddress(u.cla, cluster2EastWest) {
			t.Errorf("rotation: at +%v cluster-1's gateway got an assignment without cluster-2:\n%s",
				u.at.Sub(start).Round(time.Millisecond), describe(u.cla))
		}
	}
	t.Logf("rotation: %d assignments since the Secret update, every one with cluster-2", len(updates))
}
