package kubernetes_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// TestClientProxyWiring checks the client-proxy DaemonSet's references the
// API server would accept broken: the identity causeway serve accepts for
// role client, the Node read its bootstrap needs, and the files passed
// from the init container to Envoy.
func TestClientProxyWiring(t *testing.T) {
	m := load(t)
	ds := find[*appsv1.DaemonSet](t, m, "causeway-client")
	pod := ds.Spec.Template.Spec
	if pod.ServiceAccountName != "causeway-client" || ds.Namespace != "causeway-system" {
		t.Errorf("DaemonSet %s/%s runs as %q: token auth admits role client only as causeway-system/causeway-client",
			ds.Namespace, ds.Name, pod.ServiceAccountName)
	}
	sa := find[*corev1.ServiceAccount](t, m, pod.ServiceAccountName)
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken ||
		pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("API credentials are automounted into every container; only the bootstrap init container needs them")
	}
	b := find[*rbacv1.ClusterRoleBinding](t, m, "causeway-client-node-reader")
	if b.RoleRef.Name != "causeway-client-node-reader" || len(b.Subjects) != 1 ||
		b.Subjects[0].Name != sa.Name || b.Subjects[0].Namespace != "causeway-system" {
		t.Errorf("node reader binding %+v does not bind the DaemonSet's ServiceAccount", b)
	}
	if !pod.HostNetwork || pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v dnsPolicy %q: the proxy binds the node's address and resolves the xDS Service", pod.HostNetwork, pod.DNSPolicy)
	}
	if len(pod.InitContainers) != 1 || len(pod.Containers) != 1 {
		t.Fatalf("%d init containers and %d containers, want the bootstrap and Envoy", len(pod.InitContainers), len(pod.Containers))
	}
	initC, envoy := pod.InitContainers[0], pod.Containers[0]
	flags := map[string]string{}
	for _, a := range initC.Args[1:] {
		k, v, _ := strings.Cut(a, "=")
		flags[k] = v
	}
	if initC.Args[0] != "bootstrap" || flags["--role"] != "client" || flags["--node-name"] != "$(NODE_NAME)" ||
		flags["--bind-address"] != "$(HOST_IP)" || flags["--cluster"] == "" {
		t.Errorf("init container args %v: want bootstrap --role=client --cluster --node-name=$(NODE_NAME) --bind-address=$(HOST_IP)", initC.Args)
	}
	fieldOf := map[string]string{}
	for _, e := range initC.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			fieldOf[e.Name] = e.ValueFrom.FieldRef.FieldPath
		}
	}
	if fieldOf["NODE_NAME"] != "spec.nodeName" || fieldOf["HOST_IP"] != "status.hostIP" {
		t.Errorf("downward API env %v: want NODE_NAME=spec.nodeName, HOST_IP=status.hostIP", fieldOf)
	}
	mountsOf := func(c corev1.Container) map[string]string {
		out := map[string]string{}
		for _, vm := range c.VolumeMounts {
			out[vm.Name] = vm.MountPath
		}
		return out
	}
	initMounts, envoyMounts := mountsOf(initC), mountsOf(envoy)
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	for _, mounts := range []map[string]string{initMounts, envoyMounts} {
		for name := range mounts {
			if _, ok := volumes[name]; !ok {
				t.Errorf("volume mount %s has no volume", name)
			}
		}
	}
	// Each file flag lies in a volume the init container mounts; the
	// bootstrap and the token are where Envoy reads them.
	inMount := func(mounts map[string]string, path string) string {
		for name, dir := range mounts {
			if strings.HasPrefix(path, dir+"/") {
				return name
			}
		}
		return ""
	}
	for _, f := range []string{"--xds-ca", "--xds-token-file", "--out"} {
		if inMount(initMounts, flags[f]) == "" {
			t.Errorf("%s %q is in no volume the init container mounts", f, flags[f])
		}
	}
	if i := slices.Index(envoy.Args, "-c"); i < 0 || i+1 == len(envoy.Args) || envoy.Args[i+1] != flags["--out"] ||
		inMount(envoyMounts, flags["--out"]) != inMount(initMounts, flags["--out"]) {
		t.Errorf("Envoy args %v do not read the bootstrap the init container writes (%s)", envoy.Args, flags["--out"])
	}
	if inMount(envoyMounts, flags["--xds-token-file"]) != inMount(initMounts, flags["--xds-token-file"]) {
		t.Errorf("Envoy does not mount the token file %s the bootstrap names", flags["--xds-token-file"])
	}
	if v := volumes[inMount(initMounts, flags["--xds-ca"])]; v.ConfigMap == nil || v.ConfigMap.Name != "causeway-xds-ca" {
		t.Errorf("--xds-ca volume %+v: want ConfigMap causeway-xds-ca", v)
	}
	if _, ok := envoyMounts["kube-api-access"]; ok || initMounts["kube-api-access"] != "/var/run/secrets/kubernetes.io/serviceaccount" {
		t.Errorf("API credentials must be mounted in the init container only, where in-cluster config reads them: init %v envoy %v", initMounts, envoyMounts)
	}
	sc := envoy.SecurityContext
	if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_BIND_SERVICE"}) ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("Envoy security context %+v: want all capabilities dropped but NET_BIND_SERVICE, no privilege escalation", sc)
	}
}
