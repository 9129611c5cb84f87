package e2eclient

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// clientIdentity is the SPIFFE ID a client proxy of cluster-1 presents to
// east-west gateways (and nothing else does).
var clientIdentity = fmt.Sprintf("spiffe://%s/cluster/cluster-1/ns/causeway-system/sa/causeway-client", e2eutil.TestTrustDomain)

// testClientIdentity: the certificate the client proxy presents upstream
// (Envoy's /certs: the chains of its active SDS secrets) names the client
// identity and only it. Cluster-2's answers through the east-west gateway
// (FederatedHostnames, RouteSplits8020) show that the gateway accepts it.
func testClientIdentity(t *testing.T, top *topology) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := top.envoys["client-cluster-1"].Admin(ctx, "/certs")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Certificates []struct {
			CertChain []struct {
				SubjectAltNames []struct {
					URI string `json:"uri"`
				} `json:"subject_alt_names"`
			} `json:"cert_chain"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("/certs: %v: %.300s", err, body)
	}
	ids := map[string]bool{}
	for _, c := range d.Certificates {
		for _, x := range c.CertChain {
			for _, san := range x.SubjectAltNames {
				if san.URI != "" {
					ids[san.URI] = true
				}
			}
		}
	}
	var got []string
	for id := range ids {
		got = append(got, id)
	}
	sort.Strings(got)
	if len(got) != 1 || got[0] != clientIdentity {
		t.Errorf("client proxy presents %v, want exactly [%s]", got, clientIdentity)
	}
}
