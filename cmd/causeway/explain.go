package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/causeway-dev/causeway/internal/admin"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

type explainFlags struct {
	proxyFlags
	worldFlags
	host, path, output, server string
	port                       uint32
}

func newExplainCommand() *cobra.Command {
	f := &explainFlags{}
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Explain which endpoints a proxy uses for a host, at which priority, and why",
		Long: `Explain, for one proxy and one host, every endpoint the proxy's load
assignments hold: its Service, cluster, locality and state (ready or
stale), the priority it got and the rule that set it (trafficDistribution,
PreferClose's locality levels, a FailoverPolicy's localityMappings or
priorityLabels, staleness), the east-west gateways it is reached through
and its weights; and every endpoint left out, with the reason (not ready,
no east-west gateway to its cluster, another workspace, outside a
subset, ...). The priorities and weights are those of the real
translation: explain runs the translator's own code.

--host is a VirtualDestination or ExternalService host or a federated
hostname (one destination per port, and per subset), or a hostname a
gateway proxy's routes serve: then, or with --path, explain follows the
routes matching host and path to their backends. An unknown host is
answered with the known hosts closest to it.

The proxy is named as in translate and bootstrap (--role, --cluster,
--gateway or --all-gateways, locality flags; without locality flags it is
in its cluster's default locality). The world comes from --world or
--kube/--clusters, as for translate, or, with --server, from a running
causeway serve: its admin listener (serve --admin-address, loopback only;
reach it with kubectl port-forward) answers GET /debug/explain.`,
		Example: `  causeway explain --world examples/demo/world.yaml --cluster cluster-1 --all-gateways --host reviews.mesh.internal.com
  causeway explain --world examples/demo/world.yaml --cluster cluster-1 --all-gateways --host bookinfo.example.com --path /productpage -o json
  causeway explain --world examples/demo/world.yaml --role eastwest --cluster cluster-2 --host reviews.mesh.internal.com
  causeway explain --server 127.0.0.1:9092 --cluster cluster-1 --gateway causeway-system/http --host reviews.mesh.internal.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExplain(f, cmd.OutOrStdout())
		},
	}
	f.proxyFlags.register(cmd.Flags())
	f.worldFlags.register(cmd.Flags())
	cmd.Flags().StringVar(&f.host, "host", "", "host to explain (required)")
	cmd.Flags().Uint32Var(&f.port, "port", 0, "only the destinations of this port of --host (default every port)")
	cmd.Flags().StringVar(&f.path, "path", "", "request path: follow the gateway routes of --host matching it")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	cmd.Flags().StringVar(&f.server, "server", "", "admin address of a running causeway serve (host:port or URL) to explain against, instead of --world/--kube")
	cmd.MarkFlagsOneRequired("world", "kube", "server")
	cmd.MarkFlagsMutuallyExclusive("world", "kube", "server")
	_ = cmd.MarkFlagRequired("cluster")
	_ = cmd.MarkFlagRequired("host")
	return cmd
}

func runExplain(f *explainFlags, stdout io.Writer) error {
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("--output %q: want table or json", f.output)
	}
	p, err := f.proxy()
	if err != nil {
		return err
	}
	q := translator.ExplainQuery{Host: f.host, Port: f.port, Path: f.path}
	var ex *translator.Explanation
	if f.server != "" {
		ex, err = explainRemote(f.server, p, q)
	} else {
		ex, err = explainOffline(&f.worldFlags, p, q)
	}
	if err != nil {
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ex)
	}
	_, err = io.WriteString(stdout, renderExplanation(ex))
	return err
}

// explainOffline explains from the world the flags name.
func explainOffline(wf *worldFlags, p model.Proxy, q translator.ExplainQuery) (*translator.Explanation, error) {
	world, source, _, err := wf.load()
	if err != nil {
		return nil, err
	}
	if p, err = placeProxy(world, source, p); err != nil {
		return nil, err
	}
	ex, err := translator.Explain(world, p, q)
	return ex, flagError(err)
}

// flagError phrases Explain's errors in terms of the flags.
func flagError(err error) error {
	var (
		uh *translator.UnknownHostError
		nr *translator.NoRouteError
	)
	switch {
	case errors.As(err, &uh):
		return fmt.Errorf("--host: %w", err)
	case errors.As(err, &nr):
		return fmt.Errorf("--path: %w", err)
	}
	return err
}

// explainClient bounds a live explain request.
var explainClient = &http.Client{Timeout: 30 * time.Second}

// explainRemote asks a running serve's admin listener.
func explainRemote(server string, p model.Proxy, q translator.ExplainQuery) (*translator.Explanation, error) {
	base := server
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	url := strings.TrimSuffix(base, "/") + admin.ExplainPath + "?" + admin.ExplainValues(p, q).Encode()
	resp, err := explainClient.Get(url)
	if err != nil {
		return nil, fmt.Errorf("--server %s: %w", server, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("--server %s: %w", server, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e admin.ExplainError
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			return nil, fmt.Errorf("--server %s: %s: %s", server, resp.Status, strings.TrimSpace(string(body)))
		}
		if flag := paramFlags[e.Param]; flag != "" {
			return nil, fmt.Errorf("%s: %s", flag, e.Error)
		}
		return nil, fmt.Errorf("--server %s: %s", server, e.Error)
	}
	ex := &translator.Explanation{}
	if err := json.Unmarshal(body, ex); err != nil {
		return nil, fmt.Errorf("--server %s: answer is not an explanation: %w", server, err)
	}
	return ex, nil
}

// paramFlags maps the admin endpoint's parameters to explain's flags.
var paramFlags = map[string]string{
	admin.ParamCluster: "--cluster", admin.ParamHost: "--host", admin.ParamPort: "--port",
	admin.ParamRole: "--role/--gateway", admin.ParamPath: "--path",
}
