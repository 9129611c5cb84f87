package e2ekube

import (
	"fmt"
	"testing"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// TestKube starts one etcd, three API servers and one control plane, and
// runs the scenarios against them in order. Every scenario starts from the
// baseline newSuite sets up and restores it when it ends, pass or fail.
func TestKube(t *testing.T) {
	env := kubeEnv.Env(t)
	env.InstallCRDs(t, "management")
	s := newSuite(t, env)

	for _, sc := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"BothClusters", s.testBothClusters},
		{"Statuses", s.testStatuses},
		{"OtherGatewayClass", s.testOtherGatewayClass},
		{"NotReadyEndpoints", s.testNotReadyEndpoints},
		{"ClusterSecret", s.testClusterSecret},
		{"ClusterSecretRotation", s.testClusterSecretRotation},
		{"APIServerOutage", s.testAPIServerOutage},
		{"InvalidObjects", s.testInvalidObjects},
		{"NamespaceSelector", s.testNamespaceSelector},
		{"TLSSecrets", s.testTLSSecrets},
		{"WalkThrough", s.testWalkThrough},
	} {
		var broken error
		t.Run(sc.name, func(t *testing.T) {
			if s.broken != nil {
				t.Fatalf("not run: an earlier scenario could not restore the baseline: %v", s.broken)
			}
			logStart := s.cp.logOffset()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("--- causeway serve log during %s:\n%s", sc.name, e2eutil.Indent(s.cp.logSince(logStart, 80)))
				}
				if err := s.restoreBaseline(); err != nil {
					t.Errorf("restore the baseline for the next scenario: %v", err)
					broken = err
				}
			})
			sc.run(t)
		})
		if broken != nil {
			s.broken = fmt.Errorf("after %s: %w", sc.name, broken)
		}
	}
}
