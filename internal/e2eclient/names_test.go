package e2eclient

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// testUnrelatedNames: the proxy's DNS answers only the names it serves.
// Anything else gets no address (NXDOMAIN or an empty answer, so a client
// falls back to its usual DNS), and never the proxy's address. A served
// name is asked in the same run, so "no answer" cannot mean a dead server.
func testUnrelatedNames(t *testing.T, top *topology) {
	ctx := context.Background()
	var answers []string
	for _, name := range []string{appHost, splitHost, fedHost2} {
		a, err := top.pod.query(ctx, clientDNS, name, dnsmessage.TypeA)
		if err != nil {
			t.Fatal(err)
		}
		if a.RCode != dnsmessage.RCodeSuccess || len(a.Addrs) != 1 || a.Addrs[0].String() != clientAddress {
			t.Errorf("served name %s: %s, want NOERROR [%s]", name, a, clientAddress)
		}
		// The proxy's address is IPv4: no IPv6 address for a served name.
		// Envoy's DNS filter says NXDOMAIN here, not NOERROR without
		// records (envoyproxy/envoy#42590): Go's and glibc's resolvers then
		// use the A answer, musl's (Alpine) fails the whole lookup. The
		// response code is recorded, not asserted, so the figures show
		// when Envoy changes it.
		if a, err := top.pod.query(ctx, clientDNS, name, dnsmessage.TypeAAAA); err != nil || len(a.Addrs) != 0 {
			t.Errorf("served name %s AAAA: %v, %v; want no address (the proxy's address is IPv4)", name, a, err)
		} else {
			answers = append(answers, fmt.Sprintf("%s AAAA: %s", name, a))
		}
	}
	for _, name := range []string{
		"example.com",
		"kubernetes.default.svc.cluster.local",
		"app.global.example.com",      // a served name as a prefix
		"extra.app.global",            // a served name as a suffix
		"app.globa",                   // one letter short
		"app.ns.svc.cluster-3.global", // federated form, no such cluster
		"other.ns.svc.cluster-1.global",
	} {
		for _, qtype := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
			a, err := top.pod.query(ctx, clientDNS, name, qtype)
			if err != nil {
				t.Errorf("unrelated name %s %s: %v (want a reply without an address)", name, qtype, err)
				continue
			}
			answers = append(answers, fmt.Sprintf("%s %s: %s", name, strings.TrimPrefix(qtype.String(), "Type"), a))
			if len(a.Addrs) != 0 {
				t.Errorf("unrelated name %s %s answered %s, want no address", name, qtype, a)
			}
		}
	}
	record(t, len(answers), 0, "DNS replies to unrelated names: %s", strings.Join(answers, "; "))
}
