package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	yaml "go.yaml.in/yaml/v2"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/causeway-dev/causeway/discovery/kube"
	"github.com/causeway-dev/causeway/internal/ordered"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// resourceTypes are the --type values in output order.
var resourceTypes = []string{"listeners", "routes", "clusters", "endpoints", "secrets"}

type translateFlags struct {
	proxyFlags
	worldFlags
	typ, trustDomain string
	withSecrets      bool
}

func newTranslateCommand() *cobra.Command {
	f := &translateFlags{}
	cmd := &cobra.Command{
		Use:   "translate",
		Short: "Print the xDS resources a proxy would receive",
		Long: `Translate the world for one proxy and print the resulting xDS resources
as YAML documents grouped by type, each group under a "# <type>" header.

The world comes from a world file (--world) or, offline, from plain
Kubernetes manifests (--kube), the objects a user would kubectl apply:
--kube CLUSTER=PATH reads a YAML file, or a directory's .yaml, .yml and
.json files, as cluster CLUSTER's; repeat it per cluster. Services,
EndpointSlices, Pods and Nodes belong to that cluster; VirtualDestinations
and Causeway's other resources, GatewayClasses, Gateways, HTTPRoutes and
ReferenceGrants are configuration whichever file holds them. Only Gateways
of GatewayClasses whose controllerName is --controller-name are translated. --clusters FILE (the cluster config
file of causeway serve) adds networks, default localities and east-west
gateways; without it each cluster is its own network and its east-west
gateways come from Services labelled causeway.dev/east-west-gateway: "true".
The manifests are converted exactly as causeway serve converts what it
reads from the clusters.

A gateway proxy is named by --gateway <namespace>/<name> (the one Gateway
it serves) or --all-gateways (every Gateway of its cluster), as in
causeway bootstrap. A client proxy (--role client) needs --bind-address,
the IP its listeners bind to and its DNS answers; --namespace names the
namespace whose clients it serves (required when the world has
Workspaces) and --dns-port its DNS port (default 15053).

Diagnostics (problems in the world the translator worked around, and in
--kube mode objects left out as invalid) go to stderr. Exit status: 0
clean, 1 diagnostics or another error, 2 the world file or a manifest
does not load.

Secrets are redacted: only their names are printed. Without --with-secrets
no credentials are used, so no identity secrets are produced at all. Gateway
certificates (HTTPS listeners' certificateRefs) are listed by name too;
--with-secrets prints them in full, private keys included.`,
		Example: `  causeway translate --world examples/demo/world.yaml --role gateway --cluster cluster-1 --gateway causeway-system/http
  causeway translate --world examples/demo/world.yaml --role gateway --cluster cluster-1 --all-gateways --type routes
  causeway translate --world examples/demo/world.yaml --role eastwest --cluster cluster-2 --type listeners
  causeway translate --world examples/demo/world.yaml --role client --cluster cluster-1 --bind-address 127.0.1.50 --type routes
  causeway translate --kube cluster-1=manifests/cluster-1 --kube cluster-2=manifests/cluster-2 \
    --clusters clusters.yaml --role gateway --cluster cluster-1 --gateway gloo-system/http`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTranslate(f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.proxyFlags.register(cmd.Flags())
	f.worldFlags.register(cmd.Flags())
	cmd.Flags().StringVar(&f.typ, "type", "all", "resources to print: all|"+strings.Join(resourceTypes, "|"))
	cmd.Flags().StringVar(&f.trustDomain, "trust-domain", "causeway.local", "SPIFFE trust domain peers are checked against")
	cmd.Flags().BoolVar(&f.withSecrets, "with-secrets", false, "translate as if credentials were present (their contents are still redacted), and print Gateway certificate secrets in full, private keys included")
	cmd.MarkFlagsOneRequired("world", "kube")
	cmd.MarkFlagsMutuallyExclusive("world", "kube")
	_ = cmd.MarkFlagRequired("cluster")
	return cmd
}

func runTranslate(f *translateFlags, stdout, stderr io.Writer) error {
	if f.typ != "all" && !contains(resourceTypes, f.typ) {
		return fmt.Errorf("--type %q: want all or one of %s", f.typ, strings.Join(resourceTypes, ", "))
	}
	p, err := f.proxy()
	if err != nil {
		return err
	}
	world, source, invalid, err := f.load()
	if err != nil {
		return err
	}
	if p, err = placeProxy(world, source, p); err != nil {
		return err
	}
	creds := translator.Credentials{TrustDomain: f.trustDomain}
	if f.withSecrets {
		// Placeholders: the output redacts secret contents anyway.
		creds.CertChainPEM, creds.PrivateKeyPEM, creds.RootCAPEM = []byte("redacted"), []byte("redacted"), []byte("redacted")
		creds.SpiffeID = fmt.Sprintf("spiffe://%s/cluster/%s/ns/causeway-system/sa/causeway-%s", f.trustDomain, p.Cluster, p.Role)
	}
	res := translator.Translate(world, p, creds)
	if err := writeResources(stdout, res, f.typ, f.withSecrets); err != nil {
		return err
	}
	for _, e := range invalid {
		fmt.Fprintf(stderr, "diagnostic: %s\n", e)
	}
	for _, d := range res.Diagnostics {
		fmt.Fprintf(stderr, "diagnostic: %s\n", d)
	}
	if n := len(invalid) + len(res.Diagnostics); n > 0 {
		return &exitCodeError{code: exitError, err: fmt.Errorf("%d diagnostic(s) for %s proxy of %s", n, p.Role, p.Cluster)}
	}
	return nil
}

// loadManifests builds the world from --kube CLUSTER=PATH manifests and the
// optional cluster config file, through the converter the live Kubernetes
// discovery uses. A flag in the wrong form or naming a cluster the config
// file lacks is a usage error (exit 1); a file that does not load exits 2.
// Objects the converter leaves out are returned with the world, since
// causeway serve would serve the rest.
func loadManifests(kubeFlags []string, clustersPath string) (*model.Snapshot, []error, error) {
	var cfg *kube.ClusterConfig
	if clustersPath != "" {
		var err error
		if cfg, err = kube.LoadClusterConfig(clustersPath); err != nil {
			return nil, nil, &exitCodeError{code: exitInvalidWorld, err: err}
		}
	}
	set := kube.NewManifestSet()
	var (
		infos    []kube.ClusterInfo
		named    = map[string]bool{}
		loadErrs []string
	)
	for _, kf := range kubeFlags {
		cluster, path, ok := strings.Cut(kf, "=")
		if !ok || cluster == "" || path == "" {
			return nil, nil, fmt.Errorf("--kube %q: want CLUSTER=PATH", kf)
		}
		if cfg != nil && cfg.Entry(cluster) == nil {
			return nil, nil, fmt.Errorf("--kube %q: cluster %q is not in %s", kf, cluster, clustersPath)
		}
		if !named[cluster] {
			named[cluster] = true
			infos = append(infos, kube.ClusterInfo{Name: cluster})
		}
		if err := set.Add(cluster, path); err != nil {
			loadErrs = append(loadErrs, err.Error())
		}
	}
	if len(loadErrs) > 0 {
		return nil, nil, &exitCodeError{code: exitInvalidWorld, err: errors.New(strings.Join(loadErrs, "\n"))}
	}
	if cfg != nil {
		// Every configured cluster exists, with or without manifests here.
		infos = infos[:0]
		for _, e := range cfg.Clusters {
			infos = append(infos, e.Info())
		}
	}
	world, invalid := kube.BuildWorld(infos, set.Workloads, &set.Config)
	return model.NewSnapshot(world), invalid, nil
}

// writeResources writes each selected type as "# <type>" followed by one
// YAML document per resource, streaming: resources are rendered on all
// CPUs a batch at a time and written in order through a buffer, so the
// output is never held whole. It consumes res: each resource is dropped
// from it once written, so their memory goes while the output streams.
func writeResources(w io.Writer, res *translator.Resources, typ string, withSecrets bool) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	for _, t := range resourceTypes {
		if typ != "all" && typ != t {
			continue
		}
		fmt.Fprintf(bw, "# %s\n", t)
		msgs, release := resourcesOfType(res, t)
		err := ordered.Each(len(msgs), func(i int) renderedResource {
			if s, ok := msgs[i].(*tlsv3.Secret); ok && (!withSecrets || !translator.IsGatewayCertificateSecret(s.GetName())) {
				// Identity secrets are placeholders here: the CA issues them.
				return renderedResource{yaml: fmt.Appendf(nil, "---\nname: %s # contents redacted\n", s.GetName())}
			}
			y, err := appendYAML([]byte("---\n"), msgs[i])
			return renderedResource{y, err}
		}, func(i int, r renderedResource) error {
			if r.err != nil {
				return r.err
			}
			msgs[i] = nil
			release(i)
			_, err := bw.Write(r.yaml)
			return err
		})
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

type renderedResource struct {
	yaml []byte
	err  error
}

// resourcesOfType lists the resources of one --type value in output
// order, and how to drop resource i from res.
func resourcesOfType(res *translator.Resources, typ string) ([]proto.Message, func(i int)) {
	switch typ {
	case "listeners":
		return messages(res.Listeners), func(i int) { res.Listeners[i] = nil }
	case "routes":
		return messages(res.Routes), func(i int) { res.Routes[i] = nil }
	case "clusters":
		return messages(res.Clusters), func(i int) { res.Clusters[i] = nil }
	case "endpoints":
		return messages(res.Endpoints), func(i int) { res.Endpoints[i] = nil }
	case "secrets":
		return messages(res.Secrets), func(i int) { res.Secrets[i] = nil }
	}
	return nil, func(int) {}
}

func messages[M proto.Message](list []M) []proto.Message {
	out := make([]proto.Message, len(list))
	for i, m := range list {
		out[i] = m
	}
	return out
}

// toYAML renders a resource with Envoy's field names (snake_case) in proto
// declaration order, name first, as in Envoy's config dumps.
// (sigs.k8s.io/yaml would sort keys alphabetically.)
func toYAML(m proto.Message) ([]byte, error) {
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	var ordered yaml.MapSlice // JSON is YAML; MapSlice keeps key order at every level.
	if err := yaml.Unmarshal(js, &ordered); err != nil {
		return nil, err
	}
	return yaml.Marshal(nameFirst(ordered))
}

// nameFirst moves the resource's name to the top: proto declaration order
// puts a Cluster's transport_socket_matches before it.
func nameFirst(m yaml.MapSlice) yaml.MapSlice {
	for i, item := range m {
		if item.Key == "name" || item.Key == "cluster_name" {
			out := append(yaml.MapSlice{item}, m[:i]...)
			return append(out, m[i+1:]...)
		}
	}
	return m
}

func clusterNames(s *model.Snapshot) string {
	var names []string
	for _, c := range s.Clusters() {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
