package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/causeway-dev/causeway/discovery/kube"
	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/internal/provision"
	"github.com/causeway-dev/causeway/internal/status"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/xds"
)

// kubeFlags are `causeway serve`'s Kubernetes mode flags.
type kubeFlags struct {
	clusters, managementKubeconfig, namespace, leaseName string
	// proxyNamespace is where proxies' service accounts live (token auth).
	proxyNamespace          string
	staleAfter, syncTimeout time.Duration
	leaderElect             bool
	// debounceQuiet and debounceMax come from the common flags.
	debounceQuiet, debounceMax time.Duration
	// controllerName comes from the common flag --controller-name.
	controllerName string
	provision      provisionFlags
}

// kubeFlagNames are the flags that select Kubernetes mode; --world excludes
// them.
var kubeFlagNames = []string{"clusters", "management-kubeconfig", "namespace", "stale-after", "sync-timeout", "leader-elect", "lease-name", "proxy-namespace",
	"provision", "provision-xds-address"}

func addKubeFlags(fs *pflag.FlagSet, f *kubeFlags) {
	fs.StringVar(&f.clusters, "clusters", "", "Kubernetes mode: clusters file (workload clusters: kubeconfig, network, locality, east-west gateways); clusters also come from Secrets labelled causeway.dev/cluster=true in --namespace")
	fs.StringVar(&f.managementKubeconfig, "management-kubeconfig", "", "Kubernetes mode: kubeconfig of the management cluster (Causeway resources, Gateway API, cluster Secrets); default: the in-cluster config")
	fs.StringVar(&f.namespace, "namespace", "causeway-system", "Kubernetes mode: the control plane's namespace on the management cluster (cluster Secrets, status Lease)")
	fs.DurationVar(&f.staleAfter, "stale-after", 0, "Kubernetes mode: a cluster unreachable this long has its endpoints ranked below every fresh one (default: the clusters file's staleAfter, else 60s)")
	fs.DurationVar(&f.syncTimeout, "sync-timeout", 0, "Kubernetes mode: /readyz waits at most this long for every cluster's first sync (default: the clusters file's syncTimeout, else 60s)")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "Kubernetes mode: write status to VirtualDestinations, HTTPRoutes, Gateways and GatewayClasses from the one replica holding the Lease --lease-name; false: this replica never writes status (every replica serves xDS either way)")
	fs.StringVar(&f.proxyNamespace, "proxy-namespace", ca.ProxyNamespace, "Kubernetes mode: namespace of the proxies' service accounts (causeway-gateway, causeway-eastwest, causeway-client, each for its own role, and each provisioned Gateway's own, which admits that Gateway's proxies only) whose tokens authenticate xDS streams; provisioned proxies are deployed there")
	fs.StringVar(&f.leaseName, "lease-name", status.DefaultLeaseName, "Kubernetes mode: name of the Lease in --namespace that elects the status writer")
	addProvisionFlags(fs, &f.provision)
}

// managementConfig is the management cluster's client config: the
// kubeconfig at path, else the in-cluster config.
func managementConfig(path string) (*rest.Config, error) {
	if path != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("--management-kubeconfig %s: %w", path, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("no --world and no --management-kubeconfig, and not running in a cluster (%v): "+
			"serve a world file with --world, or Kubernetes with --management-kubeconfig", err)
	}
	return cfg, nil
}

// kubeMode wires Kubernetes discovery and the status writer.
type kubeMode struct {
	controller *kube.Controller
	writer     *status.Writer // nil with --leader-elect=false
	store      *model.Store
	log        *slog.Logger
	// tokenReviewer authenticates proxies' service-account tokens over
	// xDS; nil: client certificates only.
	tokenReviewer xds.TokenReviewer
	// caRecord keeps the CA root on the management cluster (serve_ca_kube.go).
	caRecord caRootRecord
	// provisioner deploys gateway proxies while the writer leads; nil: off.
	provisioner *provision.Provisioner
}

// newKubeMode checks the flags, reads the clusters file and makes the
// clients; nothing is contacted yet. A clusters file that does not load is
// an exitInvalidWorld error, like a world file.
func newKubeMode(f *kubeFlags, store *model.Store, log *slog.Logger, reg prometheus.Registerer) (*kubeMode, error) {
	mgmt, err := managementConfig(f.managementKubeconfig)
	if err != nil {
		return nil, err
	}
	// client-go logs through klog (watch failures, for example); keep one
	// log format and destination.
	klog.SetSlogLogger(log.With("component", "client-go"))
	ctl, err := kube.NewController(kube.Options{
		ClusterConfigPath: f.clusters, Management: mgmt, Namespace: f.namespace, Store: store, Log: log,
		Registry: reg, StaleAfter: f.staleAfter, SyncTimeout: f.syncTimeout,
		DebounceQuiet: f.debounceQuiet, DebounceMax: f.debounceMax, ControllerName: f.controllerName, Provisioning: f.provision.enabled,
	})
	if errors.Is(err, kube.ErrInvalidClusterConfig) {
		return nil, &exitCodeError{code: exitInvalidWorld, err: err}
	}
	if err != nil {
		return nil, err
	}
	// Proxies without a client certificate authenticate with their
	// service-account token, reviewed by the cluster they claim.
	m := &kubeMode{controller: ctl, store: store, log: log, tokenReviewer: xds.TokenReviewFunc(ctl.ReviewToken)}
	mgmtClient, err := kubernetes.NewForConfig(mgmt)
	if err != nil {
		return nil, fmt.Errorf("management cluster client: %w", err)
	}
	m.caRecord = caRootRecord{client: mgmtClient, namespace: f.namespace}
	if f.leaderElect {
		m.writer, err = status.NewWriter(status.Options{
			Config: mgmt, Store: store, Namespace: f.namespace, LeaseName: f.leaseName, Log: log, Registry: reg,
			WhileLeading: []func(context.Context){m.leadProvisioner},
		})
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// parts are the long-running pieces of Kubernetes mode.
func (m *kubeMode) parts(ctx context.Context) []servePart {
	// Subscribe before the controller runs so its first publish is seen.
	published := m.store.Subscribe()
	parts := []servePart{{"Kubernetes discovery", func() error { return m.controller.Run(ctx) }}}
	if m.writer != nil {
		parts = append(parts, servePart{"status writer", func() error {
			// Statuses computed from an empty model would mark every
			// VirtualDestination and route as broken until discovery
			// synced: start writing from the first published world.
			select {
			case <-ctx.Done():
				return nil
			case <-published:
			}
			return m.writer.Run(ctx)
		}})
	}
	return parts
}
