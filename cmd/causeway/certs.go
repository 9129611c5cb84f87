package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/causeway-dev/causeway/internal/bootstrap"
	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
)

// Files `causeway certs issue` writes into --out.
const (
	certsCertFile = "cert.pem"
	certsKeyFile  = "key.pem"
	certsCAFile   = "ca.pem"
)

func newCertsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Issue certificates from Causeway's CA",
		Long: `Issue certificates from the CA causeway serve keeps in --ca-dir.

Proxies authenticate to the xDS server with a client certificate from this
CA (or, in Kubernetes, a service-account token); the identity in the
certificate decides which proxy's configuration and keys the stream gets.`,
		Example: `  causeway certs issue --ca-dir ./.causeway/ca --role gateway --cluster cluster-1 --out ./gateway-certs`,
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newCertsIssueCommand())
	return cmd
}

type certsIssueFlags struct {
	caDir, trustDomain, trustBundle, role, cluster, out string
	ttl                                                 time.Duration
}

func newCertsIssueCommand() *cobra.Command {
	f := &certsIssueFlags{}
	cmd := &cobra.Command{
		Use:   "issue",
		Short: "Issue a proxy's xDS client certificate",
		Long: `Issue the xDS client credential of a proxy with --role in --cluster: its
certificate (identity spiffe://<trust-domain>/cluster/<cluster>/ns/causeway-system/sa/causeway-<role>)
as cert.pem, its key as key.pem (mode 0600) and the trust roots that verify
the xDS server as ca.pem, all in --out. Pass them to causeway bootstrap as
--xds-cert, --xds-key and --xds-ca. The CA root must already exist in
--ca-dir (causeway serve creates it, or bring your own root.pem and
root-key.pem). Envoy reads the files when it starts: issue a new
certificate and restart the proxy before --ttl runs out. The certificate
names a role and a cluster, not a Gateway: the gateway proxies of every
Gateway in the cluster can share it.`,
		Example: `  causeway certs issue --ca-dir ./.causeway/ca --role gateway --cluster cluster-1 --out ./gw1
  causeway bootstrap --role gateway --cluster cluster-1 --gateway gloo-system/http --xds-ca ./gw1/ca.pem --xds-cert ./gw1/cert.pem --xds-key ./gw1/key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCertsIssue(f, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.caDir, "ca-dir", "./.causeway/ca", "directory holding the CA root (as given to causeway serve)")
	fs.StringVar(&f.trustDomain, "trust-domain", bootstrap.DefaultTrustDomain, "SPIFFE trust domain of the CA (as given to causeway serve)")
	fs.StringVar(&f.trustBundle, "trust-bundle", "", "PEM file of extra roots to trust, as given to causeway serve (root rotation)")
	fs.StringVar(&f.role, "role", string(model.RoleGateway), `proxy role: "gateway", "eastwest" or "client"`)
	fs.StringVar(&f.cluster, "cluster", "", "cluster the proxy runs in (required)")
	fs.StringVar(&f.out, "out", "", "directory to write cert.pem, key.pem and ca.pem into (required; created if missing)")
	fs.DurationVar(&f.ttl, "ttl", 720*time.Hour, "lifetime of the certificate")
	_ = cmd.MarkFlagRequired("cluster")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runCertsIssue(f *certsIssueFlags, stdout io.Writer) error {
	if _, err := parseRole(f.role); err != nil {
		return err
	}
	if f.cluster == "" {
		return errors.New("--cluster is required: the cluster the proxy runs in")
	}
	if f.ttl <= 0 {
		return fmt.Errorf("--ttl %v: want a positive duration", f.ttl)
	}
	// A new root here would sign certificates no running server trusts.
	if _, err := os.Stat(filepath.Join(f.caDir, ca.RootCertFile)); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--ca-dir %s has no %s: start causeway serve with this --ca-dir first (it creates the root), or put your root.pem and root-key.pem there",
			f.caDir, ca.RootCertFile)
	}
	var opts []ca.Option
	if f.trustBundle != "" {
		opts = append(opts, ca.WithTrustBundle(f.trustBundle))
	}
	authority, err := ca.LoadOrCreate(f.caDir, f.trustDomain, opts...)
	if err != nil {
		return err
	}
	id := authority.SpiffeID(f.role, f.cluster)
	// The server reads the identity back with ParseProxyID; a cluster name
	// that does not survive the round trip would be refused at connect.
	if c, r, err := ca.ParseProxyID(id); err != nil || c != f.cluster || r != f.role {
		return fmt.Errorf("--cluster %q cannot be part of a proxy identity (%s)", f.cluster, id)
	}
	certPEM, keyPEM, notAfter, err := authority.Issue(id, f.ttl)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{{certsKeyFile, keyPEM, 0o600}, {certsCertFile, certPEM, 0o644}, {certsCAFile, authority.RootsPEM(), 0o644}}
	for _, file := range files {
		if err := writeFileAtomic(filepath.Join(f.out, file.name), file.data, file.mode); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "issued %s (valid until %s)\n", id, notAfter.UTC().Format(time.RFC3339))
	for _, flag := range []struct{ flag, name string }{{"--xds-cert", certsCertFile}, {"--xds-key", certsKeyFile}, {"--xds-ca", certsCAFile}} {
		fmt.Fprintf(stdout, "%-10s %s\n", flag.flag, filepath.Join(f.out, flag.name))
	}
	return nil
}

// writeFileAtomic replaces path by rename, so a proxy starting meanwhile
// never reads half a file, and the key is never readable by others, not
// even briefly.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
