package provision

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/internal/bootstrap"
	"github.com/causeway-dev/causeway/model"
)

// Labels and paths of provisioned objects.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "causeway"
	AppNameLabel   = "app.kubernetes.io/name"
	AppNameValue   = "causeway-gateway"
	// ConfigHashAnnotation on the Pod template rolls the Envoys when their
	// bootstrap or CA bundle changes.
	ConfigHashAnnotation = "causeway.dev/config-hash"

	// BootstrapKey and CAKey are the ConfigMap's keys.
	BootstrapKey = "bootstrap.yaml"
	CAKey        = "ca.pem"
	configDir    = "/etc/causeway"
	tokenDir     = "/var/run/secrets/causeway"
	// TokenPath is where Envoy reads its projected service-account token.
	TokenPath = tokenDir + "/token"
	// tokenExpiration is the projected token's lifetime; the kubelet
	// rotates it at 80% of it.
	tokenExpiration = 3600
	// envoyUID is the envoy user of the Envoy images.
	envoyUID = 101
)

// Config is what every provisioned proxy needs to reach the xDS server.
type Config struct {
	// Namespace of the workload clusters the objects go into.
	Namespace string
	// XDSAddress is host:port of the xDS server as the proxies reach it.
	XDSAddress string
	// Insecure: plaintext xDS (serve --xds-insecure).
	Insecure bool
	// CAPEM holds the roots that sign the xDS server's certificate.
	CAPEM []byte
	// ServerName and TrustDomain as in bootstrap.Security.
	ServerName, TrustDomain string
}

// Target is one Gateway in one workload cluster.
type Target struct {
	Gateway *model.Gateway
	Cluster string
	// Params are the GatewayClass's parameters; nil: the defaults.
	Params *v1alpha1.GatewayParametersSpec
}

// Objects are what one Target gets.
type Objects struct {
	ServiceAccount *corev1.ServiceAccount
	ConfigMap      *corev1.ConfigMap
	Service        *corev1.Service
	Deployment     *appsv1.Deployment
}

// ObjectName is the name of every object provisioned for the Gateway
// namespace/name: readable, a DNS label (Services need one), and unique
// per Gateway thanks to the hash of namespace/name.
func ObjectName(namespace, name string) string { return model.ProvisionedName(namespace, name) }

// GatewayLabels identify the objects of one Gateway (and select its Pods).
func GatewayLabels(namespace, name string) map[string]string {
	return map[string]string{
		AppNameLabel:                AppNameValue,
		ManagedByLabel:              ManagedByValue,
		model.GatewayNameLabel:      name,
		model.GatewayNamespaceLabel: namespace,
	}
}

// Build returns the objects of t. An error names the Gateway and what is
// wrong (nothing is provisioned for it then).
func Build(cfg Config, t Target) (*Objects, error) {
	gw := t.Gateway
	id := fmt.Sprintf("Gateway %s/%s", gw.Namespace, gw.Name)
	if errs := validation.IsValidLabelValue(gw.Name); len(errs) > 0 {
		return nil, fmt.Errorf("%s: metadata.name: cannot be a label value (%s), so its proxies cannot be provisioned", id, strings.Join(errs, "; "))
	}
	ports := listenerPorts(gw)
	if len(ports) == 0 {
		return nil, fmt.Errorf("%s: spec.listeners: no port to serve", id)
	}
	name := ObjectName(gw.Namespace, gw.Name)
	labels := GatewayLabels(gw.Namespace, gw.Name)
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: cfg.Namespace, Labels: copyLabels(labels)}
	}
	sec := bootstrap.Security{Insecure: cfg.Insecure, ServerName: cfg.ServerName, TrustDomain: cfg.TrustDomain}
	if !cfg.Insecure {
		sec.CAFile, sec.TokenFile = configDir+"/"+CAKey, TokenPath
	}
	boot, err := bootstrap.Build(bootstrap.Options{
		Role: model.RoleGateway, Cluster: t.Cluster, XDSAddress: cfg.XDSAddress,
		// Every replica's node ID is its Pod name (--service-node).
		NodeID:   fmt.Sprintf("%s~%s~%s", model.RoleGateway, t.Cluster, name),
		Gateway:  gw.Namespace + "/" + gw.Name,
		Security: sec,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: cluster %s: %w", id, t.Cluster, err)
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(),
		Data:       map[string]string{BootstrapKey: string(boot)},
	}
	if !cfg.Insecure {
		cm.Data[CAKey] = string(cfg.CAPEM)
	}
	sa := &corev1.ServiceAccount{
		TypeMeta:                     metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta:                   meta(),
		AutomountServiceAccountToken: ptr(false),
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			Type:     t.Params.ServiceTypeOrDefault(),
			Selector: copyLabels(labels),
		},
	}
	if t.Params != nil && t.Params.Service != nil && len(t.Params.Service.Annotations) > 0 {
		svc.Annotations = copyLabels(t.Params.Service.Annotations)
	}
	var containerPorts []corev1.ContainerPort
	for _, p := range ports {
		pn := fmt.Sprintf("port-%d", p)
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: pn, Protocol: corev1.ProtocolTCP, Port: p, TargetPort: intstr.FromInt32(p),
		})
		containerPorts = append(containerPorts, corev1.ContainerPort{Name: fmt.Sprintf("p%d", p), ContainerPort: p, Protocol: corev1.ProtocolTCP})
	}
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(t.Params.ReplicasOrDefault()),
			Selector: &metav1.LabelSelector{MatchLabels: copyLabels(labels)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      copyLabels(labels),
					Annotations: map[string]string{ConfigHashAnnotation: configHash(cm.Data)},
				},
				Spec: podSpec(name, t.Params, containerPorts, cfg.Insecure),
			},
		},
	}
	return &Objects{ServiceAccount: sa, ConfigMap: cm, Service: svc, Deployment: dep}, nil
}

// podSpec runs Envoy as its unprivileged user; binding the Gateway's
// ports (80, 443) is allowed by the namespaced sysctl
// net.ipv4.ip_unprivileged_port_start.
func podSpec(name string, params *v1alpha1.GatewayParametersSpec, ports []corev1.ContainerPort, insecure bool) corev1.PodSpec {
	c := corev1.Container{
		Name:  "envoy",
		Image: params.ImageOrDefault(),
		// The image's entrypoint runs envoy with these arguments.
		Args: []string{"-c", configDir + "/" + BootstrapKey, "--service-node", "$(POD_NAME)"},
		Env: []corev1.EnvVar{{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"},
		}}},
		Ports:        ports,
		VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: configDir, ReadOnly: true}},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr(false),
			ReadOnlyRootFilesystem:   ptr(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	if params != nil && params.Resources != nil {
		c.Resources = *params.Resources.DeepCopy()
	}
	volumes := []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}},
	}}}
	if !insecure {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "token", MountPath: tokenDir, ReadOnly: true})
		volumes = append(volumes, corev1.Volume{Name: "token", VolumeSource: corev1.VolumeSource{
			Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
				ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr(int64(tokenExpiration))},
			}}},
		}})
	}
	return corev1.PodSpec{
		ServiceAccountName:           name,
		AutomountServiceAccountToken: ptr(false),
		Containers:                   []corev1.Container{c},
		Volumes:                      volumes,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: ptr(true),
			RunAsUser:    ptr(int64(envoyUID)),
			RunAsGroup:   ptr(int64(envoyUID)),
			Sysctls:      []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}},
		},
	}
}

// listenerPorts are the Gateway's distinct listener ports, ascending.
func listenerPorts(gw *model.Gateway) []int32 {
	var out []int32
	for _, l := range gw.Spec.Listeners {
		if !slices.Contains(out, int32(l.Port)) {
			out = append(out, int32(l.Port))
		}
	}
	slices.Sort(out)
	return out
}

// configHash fingerprints the ConfigMap's data (sorted keys).
func configHash(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(data[k]), data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func copyLabels(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func ptr[T any](v T) *T { return &v }
