// Command causeway is the Causeway control plane: it serves Envoy
// configuration over xDS from Kubernetes clusters or a world file (serve), prints the bootstrap an
// Envoy starts with (bootstrap), issues proxies' xDS client certificates
// (certs issue), shows what a proxy would receive (translate) and what the
// connected proxies hold (proxy-status), and registers workload clusters
// (create-remote-secret).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes. Scripts can tell a world file that does not load (2) from a
// world that loads but has problems the translator worked around (1).
const (
	exitOK           = 0
	exitError        = 1 // any failure, including translator diagnostics
	exitInvalidWorld = 2
)

// exitCodeError carries a specific exit code out of a command.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI with args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "causeway: %v\n", err)
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	return exitError
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "causeway",
		Short: "Causeway, a multi-cluster Envoy xDS control plane",
		Long: `Causeway configures Envoy gateway and east-west gateway proxies across
clusters. It reads Services, EndpointSlices, Pods and Nodes from workload
clusters and VirtualDestinations, Gateways, HTTPRoutes and ReferenceGrants
from a management cluster (serve --clusters), or everything from one world
file (serve --world).`,
		Example: `  causeway serve --clusters clusters.yaml --management-kubeconfig mgmt.kubeconfig
  causeway serve --world examples/demo/world.yaml
  causeway certs issue --role gateway --cluster cluster-1 --out gw1
  causeway bootstrap --role gateway --cluster cluster-1 --gateway causeway-system/http --xds-ca gw1/ca.pem --xds-cert gw1/cert.pem --xds-key gw1/key.pem > bootstrap.yaml
  causeway translate --world examples/demo/world.yaml --role gateway --cluster cluster-1 --gateway causeway-system/http --type clusters
  causeway proxy-status`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version: the one-line form of causeway version.
		Version: currentBuildInfo().short(),
	}
	root.SetVersionTemplate("causeway {{.Version}}\n")
	root.AddCommand(newVersionCommand(), newBootstrapCommand(), newTranslateCommand(), newServeCommand(), newCertsCommand())
	root.AddCommand(newCreateRemoteSecretCommand())
	root.AddCommand(newProxyStatusCommand())

	root.AddCommand(newExplainCommand())
	return root
}
