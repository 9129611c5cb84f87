package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/causeway-dev/causeway/discovery/kube"
	"github.com/causeway-dev/causeway/model"
)

// nodeLookupTimeout bounds reading the Node: an init container that hangs
// on an unreachable API server should fail and be restarted instead.
const nodeLookupTimeout = 30 * time.Second

// nodeLocality reads the locality of Node name from its topology labels
// (kube.NodeLocality), as discovery does for the endpoints on that Node.
// It uses kubeconfig if given, else the Pod's in-cluster credentials. The
// Node having no topology labels is not an error: the locality is then
// empty, and causeway serve gives the proxy its cluster's default.
func nodeLocality(ctx context.Context, name, kubeconfig string) (model.Locality, error) {
	var (
		cfg *rest.Config
		err error
	)
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return model.Locality{}, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
		}
	} else if cfg, err = rest.InClusterConfig(); err != nil {
		return model.Locality{}, fmt.Errorf("--node-name %q: no in-cluster credentials to read the Node with (%v): run in a Pod whose ServiceAccount token is mounted at %s, or pass --kubeconfig",
			name, err, "/var/run/secrets/kubernetes.io/serviceaccount")
	}
	cfg.UserAgent = "causeway-bootstrap"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return model.Locality{}, fmt.Errorf("--node-name %q: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, nodeLookupTimeout)
	defer cancel()
	node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return model.Locality{}, fmt.Errorf("--node-name %q: no such Node at %s (in a DaemonSet pass the downward API's spec.nodeName)", name, cfg.Host)
	case apierrors.IsForbidden(err):
		return model.Locality{}, fmt.Errorf("--node-name %q: the API server at %s refused to show the Node: the proxy's ServiceAccount needs get on nodes "+
			"(ClusterRole causeway-client-node-reader, examples/kubernetes/client-proxy/rbac.yaml): %w", name, cfg.Host, err)
	case errors.Is(err, context.DeadlineExceeded):
		return model.Locality{}, fmt.Errorf("--node-name %q: no answer from the API server at %s within %v", name, cfg.Host, nodeLookupTimeout)
	case err != nil:
		return model.Locality{}, fmt.Errorf("--node-name %q: reading the Node from %s: %w", name, cfg.Host, err)
	}
	return kube.NodeLocality(node.Labels), nil
}

// bootstrapNodeFlags are bootstrap's flags for running in a Pod: the
// locality from the Node, and the bootstrap written to a file (an init
// container has no shell to redirect with).
type bootstrapNodeFlags struct {
	nodeName, kubeconfig, out string
}

func (f *bootstrapNodeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.nodeName, "node-name", "", "Kubernetes Node the proxy runs on (downward API spec.nodeName): its topology.kubernetes.io/region, .../zone and topology.istio.io/subzone labels are the locality (instead of --region, --zone, --subzone)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "with --node-name: kubeconfig to read the Node with (default: the Pod's in-cluster credentials)")
	fs.StringVar(&f.out, "out", "", "write the bootstrap to this file (replaced atomically) instead of standard output")
}

// locality is flagged unless --node-name names a Node to read it from.
func (f *bootstrapNodeFlags) locality(ctx context.Context, flagged model.Locality, stderr io.Writer) (model.Locality, error) {
	switch {
	case f.nodeName == "" && f.kubeconfig != "":
		return flagged, errors.New("--kubeconfig is for reading the Node of --node-name; give --node-name too")
	case f.nodeName == "":
		return flagged, nil
	case flagged != (model.Locality{}):
		return flagged, fmt.Errorf("--node-name %q and --region/--zone/--subzone: the locality comes from the Node's labels or from the flags, give one", f.nodeName)
	}
	l, err := nodeLocality(ctx, f.nodeName, f.kubeconfig)
	if err == nil && l == (model.Locality{}) {
		fmt.Fprintf(stderr, "warning: Node %s has no %s, %s or %s label: the proxy gets its cluster's default locality\n",
			f.nodeName, corev1.LabelTopologyRegion, corev1.LabelTopologyZone, kube.SubzoneLabel)
	}
	return l, err
}

// write puts the bootstrap on stdout, or into --out.
func (f *bootstrapNodeFlags) write(stdout io.Writer, y []byte, p model.Proxy) error {
	if f.out == "" {
		_, err := stdout.Write(y)
		return err
	}
	if err := writeFileAtomic(f.out, y, 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %s proxy of cluster %s, locality %q, bind address %q\n", f.out, p.Role, p.Cluster, p.Locality, p.BindAddress)
	return nil
}
