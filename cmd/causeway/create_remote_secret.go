package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/causeway-dev/causeway/internal/onboard"
)

type remoteSecretFlags struct {
	kubeconfig, context, name, server, caFile          string
	network, locality, eastWestGateways                string
	provisioner, apply                                 bool
	tokenDuration, tokenTimeout, timeout               time.Duration
	managementKubeconfig, managementContext, namespace string
}

func newCreateRemoteSecretCommand() *cobra.Command {
	f := &remoteSecretFlags{}
	cmd := &cobra.Command{
		Use:   "create-remote-secret",
		Short: "Give Causeway access to a workload cluster and print (or apply) the Secret that registers it",
		Long: `Register a workload cluster with Causeway in one step.

In the workload cluster (--kubeconfig, --context) it applies, by server-side
apply, exactly what examples/kubernetes/workload-cluster grants: namespace
causeway-system, ServiceAccount causeway-reader, read-only list/watch of
Services, EndpointSlices, Pods and Nodes, TokenReview (system:auth-delegator),
proxy provisioning in causeway-system (leave out with --provisioner=false,
for serve --provision=false) and a token. Running it again changes nothing.

The token is by default the long-lived token of the Secret
causeway-system/causeway-reader-token, which kube-controller-manager's token
controller fills (waited for at most --token-timeout). It never expires:
revoke or rotate it by deleting that Secret and running this command again.
--token-duration asks the TokenRequest API for a token that expires instead
(no controller needed, nothing long-lived in the cluster); serve does not
renew it, so run this command again, with --apply, before it expires (the
Secret's causeway.dev/token-expires annotation says when).

It then prints the Secret for the management cluster, labelled
causeway.dev/cluster=true, holding a kubeconfig with the API server address
(--server, else the one in your kubeconfig, which must be reachable from
where serve runs), the CA and the token; or, with --apply, applies it to the
management cluster (--management-kubeconfig, --management-context) in
--namespace. serve picks the cluster up without a restart.

Nothing but the Secret goes to standard output; on any error nothing does,
and the exit code is 1.`,
		Example: `  causeway create-remote-secret --context cluster-1 --name cluster-1 --network network-1 \
    --locality us-east/us-east-1a --server https://cluster-1.example.com:6443 | kubectl --context mgmt apply -f -
  causeway create-remote-secret --context cluster-2 --name cluster-2 --apply --management-context mgmt
  causeway create-remote-secret --context cluster-3 --name cluster-3 --token-duration 720h --apply --management-context mgmt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCreateRemoteSecret(cmd.Context(), f, cmd.Flags().Changed, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the workload cluster (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&f.context, "context", "", "kubeconfig context of the workload cluster (default: the current context)")
	fs.StringVar(&f.name, "name", "", "the cluster's name in Causeway (VirtualDestination spec.services[].cluster, metrics) and the Secret's name (required)")
	fs.StringVar(&f.server, "server", "", "API server address written into the kubeconfig, as the management cluster reaches it (default: the one in --kubeconfig)")
	fs.StringVar(&f.caFile, "certificate-authority", "", "CA bundle (PEM file) that verifies --server, written into the kubeconfig (default: the token Secret's ca.crt, the cluster's root CA; with --token-duration, the one in --kubeconfig)")
	fs.StringVar(&f.network, "network", "", "the cluster's network (default, in serve: the cluster name)")
	fs.StringVar(&f.locality, "locality", "", "locality of endpoints whose Node has no topology labels: region[/zone[/subzone]]")
	fs.StringVar(&f.eastWestGateways, "east-west-gateways", "", "east-west gateway addresses host:port,... (default, in serve: the cluster's Services labelled causeway.dev/east-west-gateway=true)")
	fs.BoolVar(&f.provisioner, "provisioner", true, "also grant proxy provisioning in causeway-system (serve --provision, the default)")
	fs.DurationVar(&f.tokenDuration, "token-duration", 0, "use a TokenRequest token valid this long (at least 10m) instead of the long-lived token Secret (0)")
	fs.DurationVar(&f.tokenTimeout, "token-timeout", 60*time.Second, "how long to wait for the token controller to fill the token Secret")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "bound on the whole command")
	fs.BoolVar(&f.apply, "apply", false, "apply the Secret to the management cluster instead of printing it")
	fs.StringVar(&f.managementKubeconfig, "management-kubeconfig", "", "with --apply: kubeconfig of the management cluster (default: $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&f.managementContext, "management-context", "", "with --apply: kubeconfig context of the management cluster (default: the current context)")
	fs.StringVar(&f.namespace, "namespace", "causeway-system", "Causeway's namespace on the management cluster (serve --namespace)")
	return cmd
}

func runCreateRemoteSecret(ctx context.Context, f *remoteSecretFlags, changed func(string) bool, stdout, stderr io.Writer) error {
	reg, err := f.check(changed)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	workload, workloadCtx, err := loadKubeconfig(f.kubeconfig, f.context, "--kubeconfig", "--context")
	if err != nil {
		return err
	}
	if reg.Server == "" {
		reg.Server = workload.Host
		if loopbackServer(workload.Host) {
			fmt.Fprintf(stderr, "warning: context %s: API server %s is a loopback address, which serve on the management cluster cannot reach; pass --server\n", workloadCtx, workload.Host)
		}
	}
	// Check everything but the credentials before writing to any cluster.
	probe := reg
	probe.Token, probe.CA = "unchecked", nil
	if _, err := probe.Secret(); err != nil {
		return err
	}
	var management *rest.Config
	managementCtx := ""
	if f.apply {
		if management, managementCtx, err = loadKubeconfig(f.managementKubeconfig, f.managementContext, "--management-kubeconfig", "--management-context"); err != nil {
			return err
		}
	}

	dyn, err := dynamic.NewForConfig(workload)
	if err != nil {
		return fmt.Errorf("context %s: %w", workloadCtx, err)
	}
	client, err := kubernetes.NewForConfig(workload)
	if err != nil {
		return fmt.Errorf("context %s: %w", workloadCtx, err)
	}
	creds, err := onboard.PrepareWorkload(ctx, dyn, client, onboard.WorkloadOptions{
		Provisioner: f.provisioner, TokenDuration: f.tokenDuration, TokenTimeout: f.tokenTimeout,
	})
	if err != nil {
		return fmt.Errorf("workload cluster (context %s): %w", workloadCtx, err)
	}
	fmt.Fprintf(stderr, "context %s: applied %d objects; token of ServiceAccount %s\n", workloadCtx, len(creds.Applied), creds.ServiceAccount)

	reg.Token, reg.Expires = creds.Token, creds.Expires
	reg.User = creds.ServiceAccount[strings.LastIndex(creds.ServiceAccount, "/")+1:]
	if len(reg.CA) == 0 {
		reg.CA = creds.CA
	}
	if len(reg.CA) == 0 {
		if reg.CA, err = caOf(workload); err != nil {
			return fmt.Errorf("context %s: %w", workloadCtx, err)
		}
	}
	if len(reg.CA) == 0 {
		fmt.Fprintf(stderr, "warning: context %s: no CA bundle; serve will verify %s against the system roots\n", workloadCtx, reg.Server)
	}
	secret, err := reg.Secret()
	if err != nil {
		return err
	}
	if !f.apply {
		out, err := onboard.SecretYAML(secret)
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	mc, err := kubernetes.NewForConfig(management)
	if err != nil {
		return fmt.Errorf("management cluster (context %s): %w", managementCtx, err)
	}
	if err := onboard.ApplySecret(ctx, mc, secret); err != nil {
		return fmt.Errorf("management cluster (context %s): %w", managementCtx, err)
	}
	fmt.Fprintf(stderr, "context %s: applied Secret %s/%s registering cluster %s\n", managementCtx, secret.Namespace, secret.Name, reg.Name)
	return nil
}

// check validates the flags that need no cluster and returns the
// registration they describe.
func (f *remoteSecretFlags) check(changed func(string) bool) (onboard.Registration, error) {
	if f.name == "" {
		return onboard.Registration{}, errors.New("--name is required: the cluster's name in Causeway")
	}
	if !f.apply {
		for _, name := range []string{"management-kubeconfig", "management-context"} {
			if changed(name) {
				return onboard.Registration{}, fmt.Errorf("--%s needs --apply (without it the Secret is printed)", name)
			}
		}
	}
	if errs := validation.IsDNS1123Label(f.namespace); len(errs) > 0 {
		return onboard.Registration{}, fmt.Errorf("--namespace %q: %v", f.namespace, errs)
	}
	if f.tokenDuration != 0 && f.tokenDuration < 10*time.Minute {
		// The TokenRequest API's minimum.
		return onboard.Registration{}, fmt.Errorf("--token-duration %v: want 0 (long-lived token Secret) or at least 10m", f.tokenDuration)
	}
	if f.tokenTimeout <= 0 || f.timeout <= 0 {
		return onboard.Registration{}, fmt.Errorf("--token-timeout %v, --timeout %v: want positive durations", f.tokenTimeout, f.timeout)
	}
	var ca []byte
	if f.caFile != "" {
		var err error
		if ca, err = os.ReadFile(f.caFile); err != nil {
			return onboard.Registration{}, fmt.Errorf("--certificate-authority: %w", err)
		}
		if !strings.Contains(string(ca), "-----BEGIN CERTIFICATE-----") {
			return onboard.Registration{}, fmt.Errorf("--certificate-authority %s: no PEM certificate in it", f.caFile)
		}
	}
	loc, err := onboard.ParseLocality(f.locality)
	if err != nil {
		return onboard.Registration{}, fmt.Errorf("--locality %w", err)
	}
	if f.server != "" {
		if u, err := url.Parse(f.server); err != nil || u.Scheme != "https" || u.Host == "" {
			return onboard.Registration{}, fmt.Errorf("--server %q: want https://host[:port]", f.server)
		}
	}
	return onboard.Registration{
		Name: f.name, Namespace: f.namespace, Network: f.network, Locality: loc,
		EastWestGateways: f.eastWestGateways, Server: f.server, CA: ca,
	}, nil
}

// loadKubeconfig loads a client config the way kubectl does (path, else
// $KUBECONFIG, else ~/.kube/config; context, else the current one) and
// returns it with the context's name for messages.
func loadKubeconfig(path, context, pathFlag, contextFlag string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: %w", pathFlag, path, err)
	}
	name := context
	if name == "" {
		name = raw.CurrentContext
	}
	if name == "" {
		return nil, "", fmt.Errorf("%s %s: no current context; pass %s", pathFlag, path, contextFlag)
	}
	if _, ok := raw.Contexts[name]; !ok {
		return nil, "", fmt.Errorf("%s %s: no context %q", pathFlag, path, name)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("context %s: %w", name, err)
	}
	cfg.UserAgent = "causeway create-remote-secret"
	return cfg, name, nil
}

// caOf is the CA bundle the kubeconfig verifies the API server with.
func caOf(cfg *rest.Config) ([]byte, error) {
	if len(cfg.CAData) > 0 {
		return cfg.CAData, nil
	}
	if cfg.CAFile != "" {
		data, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("certificate-authority: %w", err)
		}
		return data, nil
	}
	return nil, nil
}

func loopbackServer(server string) bool {
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
