package conformance

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// serviceCIDR is kubeenv's --service-cluster-ip-range.
var serviceCIDR = netip.MustParsePrefix("10.96.0.0/16")

// blockClusterIPs makes the cluster's Service IPs unreachable from this
// machine while the test runs. Nothing here implements them (there is no
// kube-proxy), so a connection to one would follow the default route off
// the machine. The suite dials whatever address a Gateway reports; Causeway
// reports only a LoadBalancer Service's ingress, never its cluster IP, but
// an earlier version did (one run in eight sent requests to 10.96.x.x and
// got answers from a server off this machine). With the route such a
// connection fails at once, here. An existing route of the same kind
// (another run's) is left alone.
func blockClusterIPs(t *testing.T) {
	t.Helper()
	out, err := runIP("route", "add", "unreachable", serviceCIDR.String())
	if err != nil {
		if strings.Contains(out, "File exists") {
			t.Logf("route for %s exists already; leaving it as it is", serviceCIDR)
			return
		}
		t.Fatalf("ip route add unreachable %s: %v: %s", serviceCIDR, err, out)
	}
	t.Cleanup(func() {
		if out, err := runIP("route", "del", "unreachable", serviceCIDR.String()); err != nil {
			t.Errorf("cleanup: ip route del unreachable %s: %v: %s", serviceCIDR, err, out)
		}
	})
}

func runIP(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
