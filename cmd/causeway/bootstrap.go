package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/causeway-dev/causeway/internal/bootstrap"
	"github.com/causeway-dev/causeway/model"
)

// proxyFlags are the flags naming a proxy's identity, shared by bootstrap
// and translate.
type proxyFlags struct {
	role, cluster, region, zone, subzone, bindAddress string
	gateway                                           string
	allGateways                                       bool
	// namespace and dnsPort are a client proxy's (--role client).
	namespace string
	dnsPort   uint32
}

func (f *proxyFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.role, "role", string(model.RoleGateway), `proxy role: "gateway", "eastwest" or "client"`)
	fs.StringVar(&f.cluster, "cluster", "", "cluster the proxy runs in (required)")
	fs.StringVar(&f.region, "region", "", "proxy locality region")
	fs.StringVar(&f.zone, "zone", "", "proxy locality zone")
	fs.StringVar(&f.subzone, "subzone", "", "proxy locality subzone")
	fs.StringVar(&f.bindAddress, "bind-address", "", "IP the proxy's listeners bind to and its upstream connections come from (default 0.0.0.0); with --role client required: the address its DNS answers, which clients must reach")
	fs.StringVar(&f.gateway, "gateway", "", `with --role gateway: the Gateway the proxy serves, "<namespace>/<name>": it gets that Gateway's listeners and routes only (this or --all-gateways)`)
	fs.BoolVar(&f.allGateways, "all-gateways", false, "with --role gateway: serve every Gateway of the proxy's cluster; their listeners on one port are shared, so a route attached to one answers on all (this or --gateway)")
	fs.StringVar(&f.namespace, "namespace", "", "with --role client: the namespace whose clients the proxy serves (it sees what that namespace's Workspace sees; required when the world has Workspaces)")
	fs.Uint32Var(&f.dnsPort, "dns-port", 0, fmt.Sprintf("with --role client: the UDP port its DNS listener answers on (default %d)", model.DefaultDNSPort))
}

// proxy is the identity the flags name. A gateway proxy needs exactly one
// of --gateway and --all-gateways; an east-west proxy neither.
func (f *proxyFlags) proxy() (model.Proxy, error) {
	role, err := parseRole(f.role)
	if err != nil {
		return model.Proxy{}, err
	}
	if f.cluster == "" {
		return model.Proxy{}, errors.New("--cluster is required: the cluster the proxy runs in")
	}
	p := model.Proxy{
		Role:        role,
		Cluster:     f.cluster,
		Locality:    model.Locality{Region: f.region, Zone: f.zone, Subzone: f.subzone},
		BindAddress: f.bindAddress,
		Gateway:     f.gateway,
		Namespace:   f.namespace,
		DNSPort:     f.dnsPort,
	}
	switch {
	case p.Role != model.RoleClient && (f.namespace != "" || f.dnsPort != 0):
		return p, fmt.Errorf("--namespace and --dns-port are for --role %s", model.RoleClient)
	case p.Role == model.RoleClient && (f.gateway != "" || f.allGateways):
		return p, fmt.Errorf("--gateway and --all-gateways are for --role %s; a %s proxy serves no Gateway", model.RoleGateway, p.Role)
	case p.Role == model.RoleClient:
		if err := p.Validate(); err != nil {
			return p, clientFlagError(err, p)
		}
		return p, nil
	case f.gateway != "" && f.allGateways:
		return p, fmt.Errorf("--gateway %q and --all-gateways: give one or the other", f.gateway)
	case p.Role != model.RoleGateway && (f.gateway != "" || f.allGateways):
		return p, fmt.Errorf("--gateway and --all-gateways are for --role %s; a %s proxy serves no Gateway", model.RoleGateway, p.Role)
	case p.Role == model.RoleGateway && f.allGateways:
		p.Gateway = model.AllGateways
	case p.Role == model.RoleGateway && f.gateway == "":
		return p, fmt.Errorf("--role %s needs --gateway <namespace>/<name> (the one Gateway the proxy serves) or --all-gateways (every Gateway of its cluster)", model.RoleGateway)
	}
	// Role and cluster are checked above, so what is left to fail is the
	// Gateway reference; say so in the flag's terms, not node metadata's.
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("--gateway %q: want <namespace>/<name> of a Gateway (or --all-gateways)", f.gateway)
	}
	return p, nil
}

// parseRole checks a --role value itself, so a wrong one is reported as
// the flag, not as the node metadata it would become.
func parseRole(s string) (model.Role, error) {
	switch r := model.Role(s); r {
	case model.RoleGateway, model.RoleEastWest, model.RoleClient:
		return r, nil
	}
	return "", fmt.Errorf("--role: %q is not a role; use %s, %s or %s", s, model.RoleGateway, model.RoleEastWest, model.RoleClient)
}

// clientFlagError says what is wrong with a client proxy's flags in the
// flags' terms (Validate names the node metadata they become).
func clientFlagError(err error, p model.Proxy) error {
	msg := err.Error()
	for key, flag := range map[string]string{
		model.NodeMetaBindAddress: "--bind-address", model.NodeMetaNamespace: "--namespace",
		model.NodeMetaDNSPort: "--dns-port", model.NodeMetaGateway: "--gateway",
	} {
		if strings.HasPrefix(msg, "node metadata "+key+": ") {
			return fmt.Errorf("%s: %s", flag, strings.TrimPrefix(msg, "node metadata "+key+": "))
		}
	}
	return fmt.Errorf("--role %s: %w", p.Role, err)
}

func newBootstrapCommand() *cobra.Command {
	var (
		pf                   proxyFlags
		nf                   bootstrapNodeFlags
		adminAddress, nodeID string
		xdsAddresses         []string
		protocol             string
		sf                   xdsSecurityFlags
	)
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Print the Envoy bootstrap for a proxy",
		Long: `Print the Envoy bootstrap (YAML) for a gateway, east-west gateway or client proxy.
It identifies the proxy to Causeway through node metadata and locality and
fetches everything else over ADS from the xDS server: delta ADS unless
--xds-protocol sotw asks for state of the world.

A gateway proxy serves one Gateway, --gateway <namespace>/<name>: it gets
that Gateway's listeners and the routes attached to it, nothing of other
Gateways, and shares its configuration with the other proxies of that
Gateway. --all-gateways instead serves every Gateway of the proxy's cluster
on shared listeners (routes attached to one Gateway then answer on every
Gateway listening on the same port). One of the two is required.

A client proxy (--role client) serves in-cluster clients: the
VirtualDestination and federated hostnames on their ports at
--bind-address (required: the address its DNS answers, which clients must
reach), and DNS for those names on UDP --dns-port. --namespace names the
namespace whose clients it serves (what that namespace's Workspace sees).
In a DaemonSet, --node-name $(NODE_NAME) (downward API spec.nodeName)
reads the Node's topology.kubernetes.io/region and /zone and
topology.istio.io/subzone labels for the locality, with the Pod's
in-cluster credentials (get on nodes) or --kubeconfig; --out writes the
bootstrap to a file for the Envoy container (examples/kubernetes/client-proxy).

xDS is TLS: the proxy checks the server against --xds-ca and its SPIFFE ID
spiffe://<--trust-domain>/ns/causeway-system/sa/causeway, and authenticates
with a client certificate (--xds-cert, --xds-key; see causeway certs issue)
or a service-account token (--xds-token-file, Kubernetes mode), or both.
Without a credential the command refuses; --xds-insecure (plaintext, no
authentication, development only) must be asked for explicitly.

The bootstrap names the credential files; Envoy reads them. They are read
here first, as Envoy will: each must exist and hold a PEM certificate
(--xds-ca, --xds-cert), that certificate's key (--xds-key) or one JWT
(--xds-token-file), else the command fails naming the flag. For a
bootstrap made on one machine for an Envoy on another, where the files
will be at those paths, --skip-file-checks writes the paths unread.

Several --xds-address values (replicas of causeway serve with the same
--xds-server-name) make one xds cluster: each reconnect goes to the next
address, so losing a replica moves the proxy to another. The ADS stream
reconnects with a backoff of 250 ms doubling to at most 1 s.

--xds-token-file writes the token file's path, not the token: Envoy reads
the file on every ADS (re)connect, so a projected token the kubelet rotates
is picked up without a new bootstrap. The file must hold one JWT with no
trailing newline. Such a bootstrap uses Envoy's Google gRPC client
(file_based_metadata call credentials): the server is checked against
--xds-ca and the DNS name --xds-server-name, not its SPIFFE ID (only
Causeway's serving certificate has DNS names); several --xds-address values
must be IP addresses; the stream reconnects with Envoy's default backoff
(0.5 s doubling to 30 s).`,
		Example: `  causeway certs issue --ca-dir ./.causeway/ca --role gateway --cluster cluster-1 --out gw1
  causeway bootstrap --role gateway --cluster cluster-1 --gateway gloo-system/http \
    --region us-east --zone us-east-1a --bind-address 127.0.1.1 --admin-address 127.0.1.1:19000 \
    --xds-ca gw1/ca.pem --xds-cert gw1/cert.pem --xds-key gw1/key.pem > gateway.yaml
  envoy -c gateway.yaml
  # in a pod with a projected service-account token:
  causeway bootstrap --role gateway --cluster cluster-1 --xds-address causeway.causeway-system.svc:18000 \
    --xds-server-name causeway.causeway-system.svc --xds-ca /etc/causeway/ca.pem \
    --xds-token-file /var/run/secrets/causeway/token > /etc/envoy/gateway.yaml
  # a client proxy in a DaemonSet on the host network (NODE_NAME, HOST_IP from the downward API):
  causeway bootstrap --role client --cluster cluster-1 --node-name $(NODE_NAME) --bind-address $(HOST_IP) \
    --xds-address causeway.causeway-system.svc:18000 --xds-server-name causeway.causeway-system.svc \
    --xds-ca /etc/causeway/ca/ca.pem --xds-token-file /var/run/secrets/causeway/token --out /etc/envoy/bootstrap.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := pf.proxy()
			if err != nil {
				return err
			}
			if p.Locality, err = nf.locality(cmd.Context(), p.Locality, cmd.ErrOrStderr()); err != nil {
				return err
			}
			if !slices.Contains(bootstrap.Protocols, bootstrap.Protocol(protocol)) {
				return fmt.Errorf("--xds-protocol %q: want %s", protocol, protocolList())
			}
			sec := sf.security()
			y, err := bootstrap.Build(bootstrap.Options{
				Role: p.Role, Cluster: p.Cluster, Locality: p.Locality, BindAddress: p.BindAddress, Gateway: p.Gateway,
				Namespace: p.Namespace, DNSPort: p.DNSPort,
				XDSAddresses: xdsAddresses, AdminAddress: adminAddress, NodeID: nodeID, Security: sec,
				Protocol: bootstrap.Protocol(protocol),
			})
			if err != nil {
				return err
			}
			if err := sf.checkFiles(); err != nil {
				return err
			}
			return nf.write(cmd.OutOrStdout(), y, p)
		},
	}
	pf.register(cmd.Flags())
	nf.register(cmd.Flags())
	cmd.Flags().StringSliceVar(&xdsAddresses, "xds-address", []string{bootstrap.DefaultXDSAddress},
		"host:port of the Causeway xDS server; repeat or comma-separate for several replicas (one xds cluster, round robin: a lost replica's proxies reconnect to another within about a second)")
	cmd.Flags().StringVar(&adminAddress, "admin-address", bootstrap.DefaultAdminAddress, "ip:port of Envoy's admin interface")
	_ = cmd.MarkFlagRequired("cluster")
	cmd.Flags().StringVar(&nodeID, "node-id", "", `Envoy node id (default "<role>~<cluster>~<bind address or hostname>", for a gateway proxy "gateway~<cluster>~<gateway or *>~<bind address or hostname>")`)
	cmd.Flags().StringVar(&protocol, "xds-protocol", string(bootstrap.ProtocolDelta), "ADS variant: "+protocolList()+" (state of the world)")
	sf.register(cmd.Flags())
	return cmd
}

// protocolList names the --xds-protocol values, "delta or sotw".
func protocolList() string {
	names := make([]string, len(bootstrap.Protocols))
	for i, p := range bootstrap.Protocols {
		names[i] = string(p)
	}
	return strings.Join(names, " or ")
}
