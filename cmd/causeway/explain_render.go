package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// renderExplanation prints an explanation as text: the proxy and host,
// the routes followed, then per destination a table of endpoints (by
// priority) and one of the endpoints left out.
func renderExplanation(ex *translator.Explanation) string {
	var b strings.Builder
	p := ex.Proxy
	fmt.Fprintf(&b, "proxy: %s of cluster %s, locality %s", p.Role, p.Cluster, localityText(p.Locality))
	if p.Gateway != "" {
		fmt.Fprintf(&b, ", gateway %s", p.Gateway)
	}
	fmt.Fprintf(&b, "\nhost:  %s", ex.Host)
	if ex.Port != 0 {
		fmt.Fprintf(&b, " port %d", ex.Port)
	}
	if ex.Path != "" {
		fmt.Fprintf(&b, " path %s", ex.Path)
	}
	b.WriteString("\n")
	if len(ex.Routes) > 0 {
		b.WriteString("\nroutes (Envoy takes the first whose conditions all match):\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ROUTE CONFIG\tROUTE\tMATCH\tACTION")
		for _, r := range ex.Routes {
			action := r.Action
			if len(r.Backends) > 0 {
				var bs []string
				for _, be := range r.Backends {
					bs = append(bs, fmt.Sprintf("%s (weight %d)", be.Cluster, be.Weight))
				}
				action = "forward to " + strings.Join(bs, ", ")
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.RouteConfig, r.Name, r.Match, action)
		}
		tw.Flush()
	}
	for _, n := range ex.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", n)
	}
	for _, d := range ex.Destinations {
		renderDestination(&b, d)
	}
	if len(ex.Destinations) == 0 {
		b.WriteString("\nno destination: the proxy has no load assignment for this host\n")
	}
	return b.String()
}

func renderDestination(b *strings.Builder, d translator.ExplainedDestination) {
	fmt.Fprintf(b, "\ncluster %s\n  from %s", d.Cluster, d.Object)
	if d.Subset != "" {
		fmt.Fprintf(b, ", subset %s", d.Subset)
	}
	if d.Workspace != "" {
		fmt.Fprintf(b, ", workspace %s", d.Workspace)
	}
	if d.RouteWeight != 0 {
		fmt.Fprintf(b, ", route weight %d", d.RouteWeight)
	}
	fmt.Fprintf(b, "; priorities: %s\n", d.Ranking)
	if len(d.Endpoints) == 0 {
		b.WriteString("  no endpoints\n")
	} else {
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PRIORITY\tENDPOINT\tSERVICE\tCLUSTER\tLOCALITY\tSTATE\tREACHED AS (WEIGHT)\tLOCALITY WEIGHT\tRULE")
		for _, e := range d.Endpoints {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.Priority, e.Address, e.Service, dash(e.Cluster),
				localityText(e.Locality), e.State, reachedAs(e), e.LocalityWeight, e.Rule)
		}
		tw.Flush()
	}
	if len(d.LeftOut) > 0 {
		b.WriteString("  left out:\n")
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ENDPOINT\tSERVICE\tCLUSTER\tLOCALITY\tREASON")
		for _, l := range d.LeftOut {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", l.Address, l.Service, dash(l.Cluster), localityText(l.Locality), l.Reason)
		}
		tw.Flush()
	}
}

// reachedAs is how the proxy reaches an endpoint: directly at
// address:port, or through east-west gateways.
func reachedAs(e translator.ExplainedEndpoint) string {
	if len(e.Via) == 0 {
		return fmt.Sprintf("%s:%d (%d)", e.Address, e.Port, e.Weight)
	}
	var gws []string
	for _, gw := range e.Via {
		gws = append(gws, fmt.Sprintf("%s:%d (%d)", gw.Address, gw.Port, gw.Weight))
	}
	return "east-west " + strings.Join(gws, ", ")
}

// localityText is region/zone/subzone without trailing empty parts.
func localityText(l model.Locality) string {
	s := strings.TrimRight(l.String(), "/")
	if s == "" {
		return "-"
	}
	return s
}
