package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// printTopology says what runs where.
func (s *scenario) printTopology() {
	fmt.Fprintln(s.out, "\nrunning:")
	for _, p := range s.topo.Proxies {
		fmt.Fprintf(s.out, "  %-22s %-8s %s (admin http://%s)\n", p.Name, p.Role, p.Address, p.AdminAddress())
	}
	for _, b := range s.topo.Backends {
		fmt.Fprintf(s.out, "  %-22s backend  %s %s\n", b.Name, b.Address, b.Info.Version)
	}
	fmt.Fprintln(s.out)
}

// intro says what to try and who answers now.
func (s *scenario) intro() {
	fmt.Fprintln(s.out, "try:")
	fmt.Fprintf(s.out, "  %s\n  %s\n", s.reviews.Curl(), s.ratings.Curl())
	fmt.Fprintf(s.out, "  curl -s http://%s/config_dump    # what the gateway Envoy accepted\n", s.gateway.AdminAddress())
	if s.client.Name != "" {
		dig, curl := s.clientCommands()
		fmt.Fprintf(s.out, "  %s    # an in-cluster client: its client proxy's DNS\n  %s\n", dig, curl)
	}
	tl := sendBatch(context.Background(), s.reviews, batchSize)
	fmt.Fprintf(s.out, "\n%d requests to %s now:\n", tl.Total, s.reviews.URL())
	tl.print(s.out, s.topo)
}

// diagnose gathers what explains a failed step: the gateway Envoy's view
// of its upstream clusters, xDS rejections of every Envoy, log tails.
func (s *scenario) diagnose(ctx context.Context, ps *processes) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var b strings.Builder
	if e := ps.envoyFor(s.topo, s.gateway.Name); e != nil {
		if body, err := e.Admin(ctx, "/clusters"); err == nil {
			fmt.Fprintf(&b, "%s /clusters (outbound):\n", s.gateway.Name)
			for _, l := range strings.Split(string(body), "\n") {
				if strings.HasPrefix(l, "outbound|") && (strings.Contains(l, "::health_flags::") ||
					strings.Contains(l, "::priority::") || strings.Contains(l, "::rq_success::")) {
					fmt.Fprintf(&b, "  %s\n", l)
				}
			}
		}
	}
	for i, e := range ps.envoys {
		name := s.topo.Proxies[i].Name
		stats, err := e.Stats(ctx)
		if err != nil {
			fmt.Fprintf(&b, "%s: stats: %v\n", name, err)
			continue
		}
		var rejected []string
		for k, v := range stats {
			if strings.HasSuffix(k, "update_rejected") && v > 0 {
				rejected = append(rejected, fmt.Sprintf("%s=%d", k, v))
			}
		}
		sort.Strings(rejected)
		fmt.Fprintf(&b, "%s: xDS rejections: %v; log %s:\n%s", name, rejected, e.LogPath(), indent(e.LogTail(5)))
	}
	fmt.Fprintf(&b, "causeway log tail:\n%s", tailFile(ps.logPath, 10))
	return b.String()
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n"
}
