package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/causeway-dev/causeway/internal/admin"
)

type proxyStatusFlags struct {
	adminAddress, output string
	timeout              time.Duration
}

func newProxyStatusCommand() *cobra.Command {
	f := &proxyStatusFlags{}
	cmd := &cobra.Command{
		Use:   "proxy-status [node]",
		Short: "Show the connected proxies and whether each holds what Causeway would send it now",
		Long: `Show the proxies connected to one causeway serve, read from its admin
endpoint (--admin-address, loopback by default).

Without a node: one line per xDS stream with, per resource type, SYNCED (the
proxy holds what Causeway would send it now), STALE (a newer version is sent
and not answered yet, or about to be sent), NACKED (the proxy rejected the
last version and keeps an older one) or NOT SENT, with the version the proxy
holds (SYNCED), was sent (STALE) or rejected (NACKED). A node with several
streams (a reconnect whose old stream has not ended yet) has a line per
stream, NAME then ending in #<stream>.

With a node: its streams in detail, per type the versions held and current,
the last response sent, ACKed and NACKed, and the NACK message.

Each replica knows only the proxies connected to it. In Kubernetes the admin
endpoint is not exposed; forward it from the replica first:
  kubectl -n causeway-system port-forward deploy/causeway 9092
(or pod/<name> for a given replica).`,
		Example: `  causeway proxy-status
  causeway proxy-status gateway-cluster-1-7d9f
  causeway proxy-status -o json
  causeway proxy-status --admin-address 127.0.0.1:19092`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.output != "table" && f.output != "json" {
				return fmt.Errorf("--output %q: want table or json", f.output)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			c := admin.Client{Address: f.adminAddress}
			var (
				list admin.ProxyList
				err  error
			)
			if len(args) == 1 {
				list, err = c.Proxy(ctx, args[0])
			} else {
				list, err = c.Proxies(ctx)
			}
			if err != nil {
				return proxyStatusError(err, f.adminAddress, args)
			}
			out := cmd.OutOrStdout()
			switch {
			case f.output == "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			case len(args) == 1:
				printProxyDetail(out, list.Proxies)
			default:
				printProxyTable(out, list.Proxies)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.adminAddress, "admin-address", admin.DefaultAddress, "causeway serve's --admin-address (host:port)")
	fs.StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up on the admin endpoint after this long")
	return cmd
}

// proxyStatusError says what to do about a failed request.
func proxyStatusError(err error, address string, args []string) error {
	switch {
	case errors.Is(err, admin.ErrUnreachable):
		return fmt.Errorf("%w\nIs causeway serve running with --admin-address %s? In Kubernetes the admin endpoint is not exposed: "+
			"run kubectl -n causeway-system port-forward deploy/causeway 9092 first (or pass --admin-address)", err, address)
	case errors.Is(err, admin.ErrNotFound) && len(args) == 1:
		return fmt.Errorf("node %q is not connected to the causeway serve at %s (causeway proxy-status lists the connected ones; "+
			"with several replicas, it may be connected to another)", args[0], address)
	}
	return err
}

// shortVersion keeps a table readable: versions are 16 hex digits.
func shortVersion(v string) string {
	if len(v) > 8 {
		return v[:8]
	}
	return v
}

// syncCell is a type's table cell: its state and the version it concerns.
func syncCell(t admin.TypeStatus) string {
	var v string
	switch t.Sync {
	case "SYNCED":
		v = t.Holds
	case "STALE":
		if t.Sent != nil {
			v = t.Sent.Version
		}
	case "NACKED":
		if t.NACKed != nil {
			v = t.NACKed.Version
		}
	}
	if v == "" {
		return t.Sync
	}
	return t.Sync + " (" + shortVersion(v) + ")"
}

func typeByName(p admin.Proxy, name string) (admin.TypeStatus, bool) {
	for _, t := range p.Types {
		if t.Type == name {
			return t, true
		}
	}
	return admin.TypeStatus{}, false
}

// dash shows an empty table cell as "-" (proxy-status and explain tables).
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printProxyTable prints one line per stream.
func printProxyTable(out io.Writer, proxies []admin.Proxy) {
	streams := map[string]int{}
	for _, p := range proxies {
		streams[p.Node]++
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCLASS\tROLE\tCLUSTER\tGATEWAY\t"+strings.Join(admin.TypeNames, "\t"))
	for _, p := range proxies {
		name := p.Node
		if streams[p.Node] > 1 {
			name = fmt.Sprintf("%s#%d", p.Node, p.Stream)
		}
		cells := []string{name, p.Class, dash(p.Role), dash(p.Cluster), dash(p.Gateway)}
		for _, n := range admin.TypeNames {
			t, ok := typeByName(p, n)
			if !ok {
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, syncCell(t))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func timeOf(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// responseCell is a response's version, nonce and time, "-" for none.
func responseCell(r *admin.Response) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%s nonce %s %s", shortVersion(r.Version), r.Nonce, timeOf(r.At))
}

// printProxyDetail prints each stream of a node, newest first.
func printProxyDetail(out io.Writer, proxies []admin.Proxy) {
	for i, p := range proxies {
		if i > 0 {
			fmt.Fprintln(out)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "NODE\t%s\n", p.Node)
		fmt.Fprintf(tw, "STREAM\t%d (%s), connected %s from %s\n", p.Stream, p.Protocol, timeOf(p.ConnectedAt), dash(p.RemoteAddress))
		fmt.Fprintf(tw, "CLASS\t%s\n", p.Class)
		fmt.Fprintf(tw, "ROLE\t%s\n", dash(p.Role))
		fmt.Fprintf(tw, "CLUSTER\t%s\n", dash(p.Cluster))
		fmt.Fprintf(tw, "GATEWAY\t%s\n", dash(p.Gateway))
		fmt.Fprintf(tw, "LOCALITY\t%s\n", dash(p.Locality))
		tw.Flush()
		fmt.Fprintln(out)
		tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TYPE\tSTATE\tHOLDS\tCURRENT\tSENT\tACKED\tNACKED")
		var nacks []string
		for _, n := range admin.TypeNames {
			t, ok := typeByName(p, n)
			if !ok {
				continue
			}
			var nacked *admin.Response
			if t.NACKed != nil {
				nacked = &t.NACKed.Response
				nacks = append(nacks, fmt.Sprintf("%s NACK of %s (nonce %s, %s): %s", n, t.NACKed.Version, t.NACKed.Nonce, timeOf(t.NACKed.At), t.NACKed.Message))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n, t.Sync, dash(shortVersion(t.Holds)), dash(shortVersion(t.Current)),
				responseCell(t.Sent), responseCell(t.ACKed), responseCell(nacked))
		}
		tw.Flush()
		for _, line := range nacks {
			fmt.Fprintln(out, line)
		}
	}
}
