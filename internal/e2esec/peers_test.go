package e2esec

import (
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// TestEastWestAdmitsOnlyGateways checks who an east-west gateway lets in:
// only a Causeway gateway identity; not a client without a certificate,
// with another CA's, with an expired Causeway certificate, nor with a valid
// Causeway certificate for another identity (an east-west gateway's, a
// workload's). Each refusal must show up in the Envoy TLS counter naming
// its reason, so a refusal for another reason does not pass.
func TestEastWestAdmitsOnlyGateways(t *testing.T) {
	top := startTopology(t)
	authority, err := ca.LoadOrCreate(top.caDir, trustDomain)
	if err != nil {
		t.Fatal(err)
	}
	gatewayID := authority.SpiffeID("gateway", "cluster-1")

	// Positive control first: without it the refusals prove nothing.
	if status, err := eastWestGET(issue(t, authority, gatewayID)); err != nil || status != 200 {
		t.Fatalf("gateway identity %s: status %d, err %v; want 200", gatewayID, status, err)
	}
	// A gateway of another cluster is a gateway too.
	if status, err := eastWestGET(issue(t, authority, authority.SpiffeID("gateway", "cluster-3"))); err != nil || status != 200 {
		t.Fatalf("gateway identity of cluster-3: status %d, err %v; want 200", status, err)
	}

	expiredPEM, expiredKey, err := authority.IssueWithValidity(gatewayID, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ew := top.envoys[eastWestProxy.name]
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
		stat string // suffix of the Envoy counter naming the reason
	}{
		{"no client certificate", nil, ".ssl.fail_verify_no_cert"},
		{"gateway identity from another CA", foreignCert(t, gatewayID), ".ssl.fail_verify_error"},
		{"expired Causeway gateway certificate", keyPair(t, expiredPEM, expiredKey), ".ssl.fail_verify_error"},
		{"east-west identity", issue(t, authority, authority.SpiffeID("eastwest", "cluster-1")), ".ssl.fail_verify_san"},
		{"workload identity", issue(t, authority, "spiffe://"+trustDomain+"/cluster/cluster-1/ns/default/sa/app"), ".ssl.fail_verify_san"},
		{"gateway service account in another namespace", issue(t, authority, "spiffe://"+trustDomain+"/cluster/cluster-1/ns/default/sa/causeway-gateway"), ".ssl.fail_verify_san"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := sumStats(t, ew, tc.stat)
			status, err := eastWestGET(tc.cert)
			if err == nil {
				t.Fatalf("got HTTP %d through the east-west gateway, want the connection refused", status)
			}
			t.Logf("refused: %v", err)
			if err := e2eutil.Eventually(2*time.Second, 50*time.Millisecond, func() error {
				if after := sumStats(t, ew, tc.stat); after <= before {
					return fmt.Errorf("*%s stayed at %d", tc.stat, after)
				}
				return nil
			}); err != nil {
				t.Errorf("refused, but not for that reason: %v", err)
			}
		})
	}
	// The real gateway still gets through after all that.
	if err := getReviews(); err != nil {
		t.Errorf("through the gateway afterwards: %v", err)
	}
	e2eutil.CheckNoRejectedUpdates(t, top.envoys)
}
