package translator

import (
	"regexp"
	"testing"
)

// TestGatewayPeerRegex checks the east-west allow-list with Go's RE2, the
// same dialect as Envoy's safe_regex.
func TestGatewayPeerRegex(t *testing.T) {
	re := regexp.MustCompile(gatewayPeer("causeway.local").GetSafeRegex().GetRegex())
	for id, want := range map[string]bool{
		"spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-gateway":       true,
		"spiffe://causeway.local/cluster/c/ns/causeway-system/sa/causeway-gateway":               true,
		"spiffe://causeway.local/cluster/cluster-2/ns/causeway-system/sa/causeway-client":        true,
		"spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-eastwest":      false,
		"spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-clients":       false,
		"spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-gatewayclient": false,
		"spiffe://causeway.local/cluster/cluster-1/ns/default/sa/causeway-client":                false,
		"spiffe://other.org/cluster/cluster-1/ns/causeway-system/sa/causeway-client":             false,
		"spiffe://causeway.local/cluster/cluster-1/ns/default/sa/app":                            false,
		"spiffe://causeway.local/cluster/cluster-1/ns/default/sa/causeway-gateway":               false,
		"spiffe://causewayxlocal/cluster/cluster-1/ns/causeway-system/sa/causeway-gateway":       false,
		"spiffe://other.org/cluster/cluster-1/ns/causeway-system/sa/causeway-gateway":            false,
		"spiffe://causeway.local/cluster/a/b/ns/causeway-system/sa/causeway-gateway":             false,
		"spiffe://causeway.local/cluster//ns/causeway-system/sa/causeway-gateway":                false,
		"spiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-gateway/x":     false,
		"spiffe://causeway.local/ns/causeway-system/sa/causeway":                                 false,
		"xspiffe://causeway.local/cluster/cluster-1/ns/causeway-system/sa/causeway-gateway":      false,
	} {
		if got := re.MatchString(id); got != want {
			t.Errorf("%s: match = %v, want %v", id, got, want)
		}
	}
}
