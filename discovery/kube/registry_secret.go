package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/causeway-dev/causeway/model"
)

// Cluster Secrets: a Secret in the control plane's namespace on the
// management cluster, labelled SecretLabel=true, registers one workload
// cluster. Its data key SecretKubeconfigKey holds the kubeconfig; the
// annotations below give what the clusters file would.
const (
	SecretLabel                      = "causeway.dev/cluster"
	SecretKubeconfigKey              = "kubeconfig"
	SecretAnnotationClusterName      = "causeway.dev/cluster-name"
	SecretAnnotationNetwork          = "causeway.dev/network"
	SecretAnnotationRegion           = "causeway.dev/region"
	SecretAnnotationZone             = "causeway.dev/zone"
	SecretAnnotationSubzone          = "causeway.dev/subzone"
	SecretAnnotationEastWestGateways = "causeway.dev/east-west-gateways"
)

// clusterSpec is one workload cluster as configured: its defaults, where the
// definition comes from and how to reach it.
type clusterSpec struct {
	info ClusterInfo
	// source names the definition in messages: "Secret ns/name" or
	// "clusters file path".
	source string
	rest   *rest.Config
	// fingerprint identifies the kubeconfig content: a new fingerprint
	// for a running cluster is a rotation.
	fingerprint string
}

// secretClusterName is the cluster a Secret defines: its cluster-name
// annotation, else the Secret's name. It never fails, so a Secret whose
// kubeconfig breaks can still be matched with the cluster it runs.
func secretClusterName(s *corev1.Secret) string {
	if n := strings.TrimSpace(s.Annotations[SecretAnnotationClusterName]); n != "" {
		return n
	}
	return s.Name
}

func secretSource(s *corev1.Secret) string { return "Secret " + s.Namespace + "/" + s.Name }

// specFromSecret parses a cluster Secret. Errors name the Secret and the key
// or annotation at fault.
func specFromSecret(s *corev1.Secret) (clusterSpec, error) {
	name := secretClusterName(s)
	src := secretSource(s)
	spec := clusterSpec{
		source: src,
		info: ClusterInfo{
			Name:    name,
			Network: name,
			Locality: model.Locality{
				Region:  s.Annotations[SecretAnnotationRegion],
				Zone:    s.Annotations[SecretAnnotationZone],
				Subzone: s.Annotations[SecretAnnotationSubzone],
			},
		},
	}
	if n := strings.TrimSpace(s.Annotations[SecretAnnotationNetwork]); n != "" {
		spec.info.Network = n
	}
	if v, ok := s.Annotations[SecretAnnotationEastWestGateways]; ok {
		gws, err := parseGatewayList(v)
		if err != nil {
			return clusterSpec{}, fmt.Errorf("%s: annotation %s: %w", src, SecretAnnotationEastWestGateways, err)
		}
		spec.info.EastWestGateways = gws
	}
	data, ok := s.Data[SecretKubeconfigKey]
	if !ok || len(data) == 0 {
		return clusterSpec{}, fmt.Errorf("%s: key %q: missing or empty", src, SecretKubeconfigKey)
	}
	cfg, err := restConfigFromKubeconfig(data)
	if err != nil {
		return clusterSpec{}, fmt.Errorf("%s: key %q: %w", src, SecretKubeconfigKey, err)
	}
	spec.rest = cfg
	spec.fingerprint = fingerprint(data)
	return spec, nil
}

// ParseClusterSecret checks a cluster Secret the way serve reads it and
// returns the cluster it registers; `causeway create-remote-secret` uses it
// so a Secret it writes is one serve accepts.
func ParseClusterSecret(s *corev1.Secret) (ClusterInfo, error) {
	spec, err := specFromSecret(s)
	return spec.info, err
}

// specFromFile builds the spec of a clusters-file entry; kubeconfig is the
// kubeconfig's path, already resolved against the clusters file.
func specFromFile(configPath string, info ClusterInfo, kubeconfig string) (clusterSpec, error) {
	src := "clusters file " + configPath
	data, err := os.ReadFile(kubeconfig)
	if err != nil {
		return clusterSpec{}, fmt.Errorf("%s: cluster %q: kubeconfig: %w", src, info.Name, err)
	}
	cfg, err := restConfigFromKubeconfig(data)
	if err != nil {
		return clusterSpec{}, fmt.Errorf("%s: cluster %q: kubeconfig %s: %w", src, info.Name, kubeconfig, err)
	}
	return clusterSpec{info: info, source: src, rest: cfg, fingerprint: fingerprint(data)}, nil
}

// restConfigFromKubeconfig turns kubeconfig content into a client config,
// using its current context.
func restConfigFromKubeconfig(data []byte) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "causeway"
	return cfg, nil
}

func fingerprint(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// parseGatewayList parses "host:port,host:port" (blanks around entries are
// ignored).
func parseGatewayList(v string) ([]model.GatewayAddress, error) {
	var out []model.GatewayAddress
	for i, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		host, port, err := net.SplitHostPort(entry)
		if err != nil {
			return nil, fmt.Errorf("entry %d %q: want address:port", i+1, entry)
		}
		if host == "" {
			return nil, fmt.Errorf("entry %d %q: empty address", i+1, entry)
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("entry %d %q: port must be 1-65535", i+1, entry)
		}
		out = append(out, model.GatewayAddress{Address: host, Port: uint32(n)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address:port entries in %q", v)
	}
	return out, nil
}
