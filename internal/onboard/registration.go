package onboard

import (
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/discovery/kube"
	"github.com/causeway-dev/causeway/model"
)

// Registration is the cluster Secret to write on the management cluster.
type Registration struct {
	// Name is the cluster's name (VirtualDestination
	// spec.services[].cluster, metrics) and the Secret's name.
	Name string
	// Namespace is serve's --namespace on the management cluster.
	Namespace string
	// Network, Locality and EastWestGateways (host:port,...) become the
	// Secret's annotations when set.
	Network          string
	Locality         model.Locality
	EastWestGateways string
	// Server is the workload API server's address as the management
	// cluster reaches it; CA is its CA bundle (PEM).
	Server string
	CA     []byte
	Token  string
	// User names the credentials in the kubeconfig (the ServiceAccount).
	User string
	// Expires, when set, is written as an annotation so an operator sees
	// when the token must be replaced.
	Expires time.Time
}

// AnnotationTokenExpires records a TokenRequest token's expiry on the
// Secret (RFC 3339); serve does not read it.
const AnnotationTokenExpires = "causeway.dev/token-expires"

// ParseLocality parses "region[/zone[/subzone]]".
func ParseLocality(s string) (model.Locality, error) {
	if s == "" {
		return model.Locality{}, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > 3 || parts[0] == "" {
		return model.Locality{}, fmt.Errorf("%q: want region[/zone[/subzone]]", s)
	}
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	if parts[1] == "" && parts[2] != "" {
		return model.Locality{}, fmt.Errorf("%q: a subzone needs a zone", s)
	}
	return model.Locality{Region: parts[0], Zone: parts[1], Subzone: parts[2]}, nil
}

// Kubeconfig is the kubeconfig serve uses to reach the workload cluster:
// one cluster, user and context, the token and CA inlined.
func (r Registration) Kubeconfig() ([]byte, error) {
	if r.Server == "" {
		return nil, errors.New("no API server address (--server)")
	}
	if r.Token == "" {
		return nil, errors.New("no token")
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[r.Name] = &clientcmdapi.Cluster{Server: r.Server, CertificateAuthorityData: r.CA}
	cfg.AuthInfos[r.User] = &clientcmdapi.AuthInfo{Token: r.Token}
	cfg.Contexts[r.Name] = &clientcmdapi.Context{Cluster: r.Name, AuthInfo: r.User}
	cfg.CurrentContext = r.Name
	return clientcmd.Write(*cfg)
}

// Secret builds the cluster Secret and checks it with the parser serve
// uses, so a Secret it returns is one serve accepts (with the cluster,
// network and locality asked for). Errors name the field at fault.
func (r Registration) Secret() (*corev1.Secret, error) {
	if errs := validation.IsDNS1123Subdomain(r.Name); len(errs) > 0 {
		return nil, fmt.Errorf("--name %q: not a valid Secret name: %s", r.Name, strings.Join(errs, "; "))
	}
	kc, err := r.Kubeconfig()
	if err != nil {
		return nil, err
	}
	annotations := map[string]string{kube.SecretAnnotationClusterName: r.Name}
	for key, v := range map[string]string{
		kube.SecretAnnotationNetwork:          r.Network,
		kube.SecretAnnotationRegion:           r.Locality.Region,
		kube.SecretAnnotationZone:             r.Locality.Zone,
		kube.SecretAnnotationSubzone:          r.Locality.Subzone,
		kube.SecretAnnotationEastWestGateways: r.EastWestGateways,
	} {
		if v != "" {
			annotations[key] = v
		}
	}
	if !r.Expires.IsZero() {
		annotations[AnnotationTokenExpires] = r.Expires.UTC().Format(time.RFC3339)
	}
	s := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        r.Name,
			Namespace:   r.Namespace,
			Labels:      map[string]string{kube.SecretLabel: "true", "app.kubernetes.io/name": "causeway"},
			Annotations: annotations,
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{kube.SecretKubeconfigKey: kc},
	}
	info, err := kube.ParseClusterSecret(s)
	if err != nil {
		if r.EastWestGateways != "" {
			// The only annotation serve can reject is the gateway list.
			return nil, fmt.Errorf("--east-west-gateways: %w", err)
		}
		return nil, err
	}
	if info.Name != r.Name {
		return nil, fmt.Errorf("serve would read the Secret as cluster %q, not %q", info.Name, r.Name)
	}
	return s, nil
}

// SecretYAML renders s for `kubectl apply -f -`, the kubeconfig readable
// under stringData.
func SecretYAML(s *corev1.Secret) ([]byte, error) {
	stringData := map[string]string{}
	for k, v := range s.Data {
		stringData[k] = string(v)
	}
	m := map[string]any{
		"apiVersion": "v1",
		"kind":       "Secret",
		"metadata": map[string]any{
			"name":        s.Name,
			"namespace":   s.Namespace,
			"labels":      s.Labels,
			"annotations": s.Annotations,
		},
		"type":       s.Type,
		"stringData": stringData,
	}
	return yaml.Marshal(m)
}
