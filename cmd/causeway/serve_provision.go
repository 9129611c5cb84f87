package main

import (
	"context"
	"fmt"
	"net"

	"github.com/spf13/pflag"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/provision"
)

// provisionFlags are the Kubernetes mode flags of gateway provisioning.
type provisionFlags struct {
	enabled    bool
	xdsAddress string
}

// DefaultProvisionXDSAddress is where provisioned proxies reach xDS when
// Causeway runs as examples/kubernetes deploys it (Service causeway in
// causeway-system) in a cluster that is also a workload cluster.
const DefaultProvisionXDSAddress = "causeway.causeway-system.svc:18000"

func addProvisionFlags(fs *pflag.FlagSet, f *provisionFlags) {
	fs.BoolVar(&f.enabled, "provision", true, "Kubernetes mode: deploy each Gateway's proxies (Envoy Deployment, Service, ServiceAccount, bootstrap ConfigMap in --proxy-namespace) in the workload clusters that serve it, from the replica holding the Lease (needs --leader-elect); false: proxies are deployed by hand (causeway bootstrap --gateway)")
	fs.StringVar(&f.xdsAddress, "provision-xds-address", DefaultProvisionXDSAddress, "Kubernetes mode: host:port at which provisioned proxies reach this xDS server from their workload cluster")
}

// setupProvisioner makes the provisioner the status writer runs while it
// leads; authority's roots (which sign the xDS serving certificate) are
// what the proxies trust.
func (m *kubeMode) setupProvisioner(f *serveFlags, authority *ca.CA) error {
	pf := f.kube.provision
	if !pf.enabled || m.writer == nil {
		if pf.enabled {
			m.log.Warn("provisioning is on but this replica never leads (--leader-elect=false): it provisions nothing")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(pf.xdsAddress); err != nil {
		return fmt.Errorf("--provision-xds-address %q: want host:port: %w", pf.xdsAddress, err)
	}
	cfg := provision.Config{
		Namespace: f.kube.proxyNamespace, XDSAddress: pf.xdsAddress, Insecure: f.xdsInsecure,
		TrustDomain: f.trustDomain,
	}
	if len(f.xdsServerNames) > 0 {
		cfg.ServerName = f.xdsServerNames[0]
	}
	if authority != nil {
		cfg.CAPEM = authority.RootsPEM()
	}
	p, err := provision.New(provision.Options{Store: m.store, Clients: m.controller.ClusterClient, Config: cfg, Log: m.log})
	if err != nil {
		return err
	}
	m.provisioner = p
	return nil
}

// leadProvisioner runs the provisioner for one term of the Lease.
func (m *kubeMode) leadProvisioner(ctx context.Context) {
	if m.provisioner != nil {
		m.provisioner.Lead(ctx)
	}
}
