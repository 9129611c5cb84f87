package e2ekube

import (
	"fmt"
	"sort"
	"strings"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/google/go-cmp/cmp"
)

// lbEntry is one endpoint of an assignment, flattened with what its
// locality group says about it: the facts the assertions are about.
type lbEntry struct {
	Priority       uint32
	Locality       string // region/zone/subzone
	LocalityWeight uint32
	Address        string // ip:port
	Weight         uint32
	// MTLS marks endpoints reached through an east-west gateway (the
	// transport socket match Causeway puts on them).
	MTLS bool
}

func (e lbEntry) String() string {
	s := fmt.Sprintf("p%d %s (locality weight %d) %s weight %d", e.Priority, e.Locality, e.LocalityWeight, e.Address, e.Weight)
	if e.MTLS {
		s += " mtls"
	}
	return s
}

// flatten lists cla's endpoints sorted by priority, locality and address.
func flatten(cla *endpointv3.ClusterLoadAssignment) []lbEntry {
	var out []lbEntry
	for _, g := range cla.GetEndpoints() {
		l := g.GetLocality()
		loc := l.GetRegion() + "/" + l.GetZone() + "/" + l.GetSubZone()
		for _, ep := range g.GetLbEndpoints() {
			sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
			_, mtls := ep.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"]
			out = append(out, lbEntry{
				Priority:       g.GetPriority(),
				Locality:       loc,
				LocalityWeight: g.GetLoadBalancingWeight().GetValue(),
				Address:        fmt.Sprintf("%s:%d", sa.GetAddress(), sa.GetPortValue()),
				Weight:         ep.GetLoadBalancingWeight().GetValue(),
				MTLS:           mtls,
			})
		}
	}
	sortEntries(out)
	return out
}

func sortEntries(es []lbEntry) {
	sort.Slice(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		if a.Locality != b.Locality {
			return a.Locality < b.Locality
		}
		return a.Address < b.Address
	})
}

// equals is an await check: the assignment's endpoints are exactly want.
func equals(want ...lbEntry) func(*endpointv3.ClusterLoadAssignment) error {
	sortEntries(want)
	return func(cla *endpointv3.ClusterLoadAssignment) error {
		got := flatten(cla)
		if d := cmp.Diff(want, got); d != "" {
			return fmt.Errorf("endpoints (-want +got):\n%s\ngot:\n%s", d, describe(cla))
		}
		return nil
	}
}

// describe renders cla's endpoints one per line for failure messages.
func describe(cla *endpointv3.ClusterLoadAssignment) string {
	if cla == nil {
		return "  (removed)"
	}
	es := flatten(cla)
	if len(es) == 0 {
		return "  (no endpoints)"
	}
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = "  " + e.String()
	}
	return strings.Join(lines, "\n")
}

// hasAddress reports whether cla has an endpoint at addr (ip:port).
func hasAddress(cla *endpointv3.ClusterLoadAssignment, addr string) bool {
	for _, e := range flatten(cla) {
		if e.Address == addr {
			return true
		}
	}
	return false
}
