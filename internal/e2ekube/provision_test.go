package e2ekube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/provision"
	"github.com/causeway-dev/causeway/model"
)

// Provisioning test topology: its own control plane (namespace
// provisionControl on the management cluster) with both workload clusters
// from its clusters file; Gateways in provisionGateways; proxies in
// provisionProxies of each workload cluster. No Pods run (there is no
// controller-manager): the test checks the objects.
const (
	provisionControl  = "causeway-prov"
	provisionGateways = "prov"
	provisionProxies  = "causeway-gateways"
	// provisionWithin bounds provisioning and status: a Lease, a
	// debounced sync, discovery of the Service, a status write; and a
	// retry after a refused write (1 s, 2 s, 4 s, ...).
	provisionWithin = 45 * time.Second
	// provisionLBIP is a documentation address (RFC 5737), never dialled.
	provisionLBIP = "203.0.113.7"
)

var gvrGatewayParameters = schema.GroupVersionResource{Group: "networking.causeway.dev", Version: "v1alpha1", Resource: "gatewayparameters"}

// The kinds this file applies, added to the package's resource table.
func init() {
	resources["GatewayClass"] = struct {
		gvr        schema.GroupVersionResource
		namespaced bool
	}{schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gatewayclasses"}, false}
	resources["GatewayParameters"] = struct {
		gvr        schema.GroupVersionResource
		namespaced bool
	}{gvrGatewayParameters, true}
}

// provisionWorld: a class with GatewayParameters (2 replicas, ClusterIP
// Service with an annotation), a class with the defaults, another
// controller's class; a Gateway pinned to cluster-2, one pinned to
// cluster-1, one served everywhere, one of the other controller.
const provisionWorld = `
apiVersion: v1
kind: Namespace
metadata: {name: ` + provisionGateways + `}
---
apiVersion: v1
kind: Namespace
metadata: {name: ` + provisionControl + `}
---
apiVersion: networking.causeway.dev/v1alpha1
kind: GatewayParameters
metadata: {name: small, namespace: ` + provisionGateways + `}
spec:
  replicas: 2
  resources: {requests: {cpu: 50m}}
  service:
    type: ClusterIP
    annotations: {example.com/internal: "true"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway-provision}
spec:
  controllerName: causeway.dev/gateway-controller
  parametersRef: {group: networking.causeway.dev, kind: GatewayParameters, name: small, namespace: ` + provisionGateways + `}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: causeway-defaults}
spec: {controllerName: causeway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: someone-else}
spec: {controllerName: example.com/other-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: pinned
  namespace: ` + provisionGateways + `
  annotations: {causeway.dev/cluster: cluster-2}
spec:
  gatewayClassName: causeway-provision
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: alt, port: 8080, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: late
  namespace: ` + provisionGateways + `
  annotations: {causeway.dev/cluster: cluster-1}
spec:
  gatewayClassName: causeway-defaults
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: everywhere, namespace: ` + provisionGateways + `}
spec:
  gatewayClassName: causeway-defaults
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: foreign, namespace: ` + provisionGateways + `}
spec:
  gatewayClassName: someone-else
  listeners: [{name: http, port: 80, protocol: HTTP}]
`

// TestProvision: Causeway deploys each Gateway's proxies in the workload
// clusters that serve it, follows its GatewayParameters, removes them with
// the Gateway, leaves other controllers' Gateways alone, and reports the
// provisioned Service's address in status.addresses.
func TestProvision(t *testing.T) {
	env := kubeEnv.Env(t)
	env.InstallCRDs(t, "management")
	mgmtCfg := env.Cluster("management").Config
	mgmt := newKube(t, "management", mgmtCfg)
	gw, err := gwclient.NewForConfig(mgmtCfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(mgmtCfg)
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := env.Cluster("cluster-1").Clientset(), env.Cluster("cluster-2").Clientset()

	// cluster-1 refuses Services in the proxy namespace until the quota
	// goes: the Gateway pinned there has no address meanwhile.
	ctx := context.Background()
	if _, err := c1.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: provisionProxies}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "no-services", Namespace: provisionProxies},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceServices: resource.MustParse("0")}},
	}
	created, err := c1.CoreV1().ResourceQuotas(provisionProxies).Create(ctx, quota, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No controller-manager computes the quota's usage: write it, so
	// that admission counts against it.
	created.Status = corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{corev1.ResourceServices: resource.MustParse("0")},
		Used: corev1.ResourceList{corev1.ResourceServices: resource.MustParse("0")},
	}
	if _, err := c1.CoreV1().ResourceQuotas(provisionProxies).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c1.CoreV1().ResourceQuotas(provisionProxies).Delete(context.Background(), quota.Name, metav1.DeleteOptions{})
	})
	mgmt.apply(t, provisionWorld)
	t.Cleanup(func() {
		// After serve stopped (cleanups run last first): nothing puts
		// the objects back.
		removeProvisionWorld(t, gw, dyn)
		removeProvisioned(t, c1, c2)
	})
	forgetCARoot(t, env.Cluster("management").Clientset(), provisionControl)
	startProvisioningCauseway(t, env.Cluster("management").KubeconfigPath,
		env.Cluster("cluster-1").KubeconfigPath, env.Cluster("cluster-2").KubeconfigPath)

	pinned := provision.ObjectName(provisionGateways, "pinned")
	late := provision.ObjectName(provisionGateways, "late")
	everywhere := provision.ObjectName(provisionGateways, "everywhere")
	foreign := provision.ObjectName(provisionGateways, "foreign")

	t.Run("PinnedToCluster2", func(t *testing.T) {
		dep := awaitDeployment(t, c2, pinned, func(d *appsv1.Deployment) error {
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
				return fmt.Errorf("replicas %v, want 2 (GatewayParameters small)", d.Spec.Replicas)
			}
			return nil
		})
		checkPodSpec(t, dep)
		svc := awaitService(t, c2, pinned, func(s *corev1.Service) error {
			var ports []int32
			for _, p := range s.Spec.Ports {
				ports = append(ports, p.Port)
			}
			if s.Spec.Type != corev1.ServiceTypeClusterIP || !slices.Equal(ports, []int32{80, 8080}) || s.Annotations["example.com/internal"] != "true" {
				return fmt.Errorf("type %s ports %v annotations %v, want ClusterIP [80 8080] with example.com/internal", s.Spec.Type, ports, s.Annotations)
			}
			return nil
		})
		if _, err := c2.CoreV1().ServiceAccounts(provisionProxies).Get(ctx, pinned, metav1.GetOptions{}); err != nil {
			t.Errorf("ServiceAccount: %v", err)
		}
		cm, err := c2.CoreV1().ConfigMaps(provisionProxies).Get(ctx, pinned, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("ConfigMap: %v", err)
		}
		checkBootstrap(t, cm, "cluster-2", provisionGateways+"/pinned")
		for k, v := range map[string]string{model.GatewayNameLabel: "pinned", model.GatewayNamespaceLabel: provisionGateways, provision.ManagedByLabel: provision.ManagedByValue} {
			for _, o := range []metav1.Object{dep, svc, cm} {
				if o.GetLabels()[k] != v {
					t.Errorf("%s: label %s=%q, want %q", o.GetName(), k, o.GetLabels()[k], v)
				}
			}
		}
		// status.addresses: the cluster IP (no load balancer in front).
		mgmt.awaitObject(t, provisionWithin, "Gateway", provisionGateways, "pinned",
			gatewayAddresses(metav1.ConditionTrue, string(gwv1.GatewayReasonProgrammed), svc.Spec.ClusterIP))
	})

	t.Run("AddressNotAssigned", func(t *testing.T) {
		mgmt.awaitObject(t, provisionWithin, "Gateway", provisionGateways, "late",
			gatewayAddresses(metav1.ConditionFalse, string(gwv1.GatewayReasonAddressNotAssigned)))
		if _, err := c1.CoreV1().Services(provisionProxies).Get(ctx, late, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("Service of late in cluster-1 despite the quota: %v", err)
		}
		if err := c1.CoreV1().ResourceQuotas(provisionProxies).Delete(ctx, quota.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		svc := awaitService(t, c1, late, func(*corev1.Service) error { return nil })
		// A LoadBalancer Service without an ingress gives no address: its
		// cluster IP is not what clients outside reach.
		mgmt.awaitObject(t, provisionWithin, "Gateway", provisionGateways, "late",
			gatewayAddresses(metav1.ConditionFalse, string(gwv1.GatewayReasonAddressNotAssigned)))
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: provisionLBIP}}
		if _, err := c1.CoreV1().Services(provisionProxies).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		mgmt.awaitObject(t, provisionWithin, "Gateway", provisionGateways, "late",
			gatewayAddresses(metav1.ConditionTrue, string(gwv1.GatewayReasonProgrammed), provisionLBIP))
	})

	t.Run("NotInOtherClusters", func(t *testing.T) {
		// everywhere reached both clusters, so each was provisioned
		// after the Gateways above were seen.
		awaitDeployment(t, c1, everywhere, func(*appsv1.Deployment) error { return nil })
		awaitDeployment(t, c2, everywhere, func(*appsv1.Deployment) error { return nil })
		assertAbsent(t, c1, "cluster-1", pinned)
		assertAbsent(t, c2, "cluster-2", late)
	})

	t.Run("LoadBalancerAddress", func(t *testing.T) {
		svc := awaitService(t, c2, everywhere, func(s *corev1.Service) error {
			if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
				return fmt.Errorf("type %s, want the default LoadBalancer", s.Spec.Type)
			}
			return nil
		})
		awaitService(t, c1, everywhere, func(*corev1.Service) error { return nil })
		// No load balancer has assigned an address yet: none to report.
		mgmt.awaitObject(t, provisionWithin, "Gateway", provisionGateways, "everywhere",
			gatewayAddresses(metav1.ConditionFalse, string(gwv1.GatewayReasonAddressNotAssigned)))
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: provisionLBIP}}
		if _, err := c2.CoreV1().Services(provisionProxies).UpdateStatus(ctx, svc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		// cluster-2's load balancer assigned one: its ingress, never a
		// cluster IP; cluster-1's is still pending and adds nothing.
		mgmt.awaitObject(t, provisionWithin, "Gateway", provisionGateways, "everywhere",
			gatewayAddresses(metav1.ConditionTrue, string(gwv1.GatewayReasonProgrammed), provisionLBIP))
	})

	t.Run("ParametersFollowed", func(t *testing.T) {
		patch := []byte(`{"spec":{"replicas":3,"service":{"type":"NodePort"}}}`)
		if _, err := dyn.Resource(gvrGatewayParameters).Namespace(provisionGateways).Patch(ctx, "small", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		awaitDeployment(t, c2, pinned, func(d *appsv1.Deployment) error {
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
				return fmt.Errorf("replicas %v, want 3", d.Spec.Replicas)
			}
			return nil
		})
		awaitService(t, c2, pinned, func(s *corev1.Service) error {
			if s.Spec.Type != corev1.ServiceTypeNodePort {
				return fmt.Errorf("type %s, want NodePort", s.Spec.Type)
			}
			return nil
		})
	})

	t.Run("ForeignGatewayUntouched", func(t *testing.T) {
		assertAbsent(t, c1, "cluster-1", foreign)
		assertAbsent(t, c2, "cluster-2", foreign)
		obj, err := mgmt.get("Gateway", provisionGateways, "foreign")
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := obj.Object["status"].(map[string]any); ok {
			if conds, _, _ := unstructured.NestedSlice(st, "conditions"); len(conds) > 0 && !pendingOnly(conds) {
				t.Errorf("foreign Gateway got status from Causeway: %v", st)
			}
			if addrs, _, _ := unstructured.NestedSlice(st, "addresses"); len(addrs) > 0 {
				t.Errorf("foreign Gateway got addresses: %v", addrs)
			}
		}
	})

	t.Run("RemovedWithGateway", func(t *testing.T) {
		if err := gw.GatewayV1().Gateways(provisionGateways).Delete(ctx, "pinned", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := e2eutil.Eventually(provisionWithin, 200*time.Millisecond, func() error {
			return absent(c2, pinned)
		}); err != nil {
			t.Fatalf("cluster-2 still holds the deleted Gateway's objects after %v: %v", provisionWithin, err)
		}
		// The others stay.
		awaitDeployment(t, c2, everywhere, func(*appsv1.Deployment) error { return nil })
	})
}

// pendingOnly: the conditions the API server defaults on a new Gateway
// (Accepted and Programmed Unknown, reason Pending), not Causeway's.
func pendingOnly(conds []any) bool {
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["reason"] != "Pending" {
			return false
		}
	}
	return true
}

// startProvisioningCauseway runs `causeway serve` with both workload
// clusters in its clusters file, provisioning into provisionProxies.
func startProvisioningCauseway(t *testing.T, mgmtKubeconfig string, kubeconfigs ...string) *controlPlane {
	t.Helper()
	cp := &controlPlane{dir: t.TempDir()}
	clusters := "clusters:\n"
	for i, path := range kubeconfigs {
		kc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("cluster-%d", i+1)
		if err := os.WriteFile(filepath.Join(cp.dir, name+".kubeconfig"), kc, 0o600); err != nil {
			t.Fatal(err)
		}
		clusters += fmt.Sprintf("- {name: %s, kubeconfig: %s.kubeconfig}\n", name, name)
	}
	clustersPath := filepath.Join(cp.dir, "clusters.yaml")
	if err := os.WriteFile(clustersPath, []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	cp.xdsAddr = "127.0.0.1:" + e2eutil.FreePort(t)
	cp.metricsAddr = "127.0.0.1:" + e2eutil.FreePort(t)
	cp.caDir = filepath.Join(cp.dir, "ca")
	cp.proc = e2eutil.Start(t, "causeway serve", filepath.Join(cp.dir, "causeway.log"), causewayBin, "serve",
		"--clusters", clustersPath,
		"--management-kubeconfig", mgmtKubeconfig,
		"--namespace", provisionControl,
		"--proxy-namespace", provisionProxies,
		"--provision-xds-address", "causeway.example.internal:18000",
		"--sync-timeout", "30s",
		"--xds-address", cp.xdsAddr,
		"--metrics-address", cp.metricsAddr,
		"--ca-dir", cp.caDir,
		"--log-level", "debug")
	t.Cleanup(func() { cp.dumpOnFailure(t) })
	if err := e2eutil.Eventually(45*time.Second, 100*time.Millisecond, func() error {
		if cp.proc.Exited() {
			return errors.New("causeway serve exited")
		}
		return e2eutil.HTTPOK("http://" + cp.metricsAddr + "/readyz")
	}); err != nil {
		t.Fatalf("causeway serve not ready: %v\n%s", err, e2eutil.Indent(cp.proc.LogTail(40)))
	}
	return cp
}

// removeProvisionWorld deletes the test's management objects (the
// namespaces go with their contents).
func removeProvisionWorld(t *testing.T, gw gwclient.Interface, dyn dynamic.Interface) {
	ctx := context.Background()
	for _, name := range []string{"causeway-provision", "causeway-defaults", "someone-else"} {
		if err := gw.GatewayV1().GatewayClasses().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: GatewayClass %s: %v", name, err)
		}
	}
	for _, name := range []string{"pinned", "late", "everywhere", "foreign"} {
		if err := gw.GatewayV1().Gateways(provisionGateways).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: Gateway %s: %v", name, err)
		}
	}
	if err := dyn.Resource(gvrGatewayParameters).Namespace(provisionGateways).Delete(ctx, "small", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("cleanup: GatewayParameters: %v", err)
	}
}

// removeProvisioned deletes what serve provisioned in the workload
// clusters (the namespace stays: without a controller-manager a deleted
// namespace never finishes terminating).
func removeProvisioned(t *testing.T, clients ...kubernetes.Interface) {
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: provision.ManagedByLabel + "=" + provision.ManagedByValue}
	for _, c := range clients {
		var errs []error
		if l, err := c.AppsV1().Deployments(provisionProxies).List(ctx, sel); err == nil {
			for _, o := range l.Items {
				errs = append(errs, c.AppsV1().Deployments(provisionProxies).Delete(ctx, o.Name, metav1.DeleteOptions{}))
			}
		}
		if l, err := c.CoreV1().Services(provisionProxies).List(ctx, sel); err == nil {
			for _, o := range l.Items {
				errs = append(errs, c.CoreV1().Services(provisionProxies).Delete(ctx, o.Name, metav1.DeleteOptions{}))
			}
		}
		if l, err := c.CoreV1().ConfigMaps(provisionProxies).List(ctx, sel); err == nil {
			for _, o := range l.Items {
				errs = append(errs, c.CoreV1().ConfigMaps(provisionProxies).Delete(ctx, o.Name, metav1.DeleteOptions{}))
			}
		}
		if l, err := c.CoreV1().ServiceAccounts(provisionProxies).List(ctx, sel); err == nil {
			for _, o := range l.Items {
				errs = append(errs, c.CoreV1().ServiceAccounts(provisionProxies).Delete(ctx, o.Name, metav1.DeleteOptions{}))
			}
		}
		if err := errors.Join(errs...); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

func awaitDeployment(t *testing.T, c kubernetes.Interface, name string, check func(*appsv1.Deployment) error) *appsv1.Deployment {
	t.Helper()
	var got *appsv1.Deployment
	if err := e2eutil.Eventually(provisionWithin, 200*time.Millisecond, func() error {
		d, err := c.AppsV1().Deployments(provisionProxies).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		got = d
		return check(d)
	}); err != nil {
		t.Fatalf("Deployment %s/%s: not as expected within %v: %v", provisionProxies, name, provisionWithin, err)
	}
	return got
}

func awaitService(t *testing.T, c kubernetes.Interface, name string, check func(*corev1.Service) error) *corev1.Service {
	t.Helper()
	var got *corev1.Service
	if err := e2eutil.Eventually(provisionWithin, 200*time.Millisecond, func() error {
		s, err := c.CoreV1().Services(provisionProxies).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		got = s
		return check(s)
	}); err != nil {
		t.Fatalf("Service %s/%s: not as expected within %v: %v", provisionProxies, name, provisionWithin, err)
	}
	return got
}

// absent returns an error while any provisioned object named name exists.
func absent(c kubernetes.Interface, name string) error {
	ctx := context.Background()
	var left []string
	if _, err := c.AppsV1().Deployments(provisionProxies).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		left = append(left, "Deployment")
	}
	if _, err := c.CoreV1().Services(provisionProxies).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		left = append(left, "Service")
	}
	if _, err := c.CoreV1().ServiceAccounts(provisionProxies).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		left = append(left, "ServiceAccount")
	}
	if _, err := c.CoreV1().ConfigMaps(provisionProxies).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		left = append(left, "ConfigMap")
	}
	if len(left) > 0 {
		return fmt.Errorf("%s %s still exist", strings.Join(left, ", "), name)
	}
	return nil
}

func assertAbsent(t *testing.T, c kubernetes.Interface, cluster, name string) {
	t.Helper()
	if err := absent(c, name); err != nil {
		t.Errorf("%s: %v", cluster, err)
	}
}

// checkPodSpec: Envoy reads the bootstrap from the ConfigMap and its
// token from a projected service-account token volume, under its own
// ServiceAccount, with the resources of the GatewayParameters.
func checkPodSpec(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	spec := d.Spec.Template.Spec
	if spec.ServiceAccountName != d.Name {
		t.Errorf("serviceAccountName %q, want %q", spec.ServiceAccountName, d.Name)
	}
	var projected bool
	for _, v := range spec.Volumes {
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				projected = projected || s.ServiceAccountToken != nil
			}
		}
	}
	if !projected {
		t.Errorf("no projected service-account token volume: %+v", spec.Volumes)
	}
	if len(spec.Containers) != 1 || spec.Containers[0].Image != "envoyproxy/envoy:v1.40.0" ||
		spec.Containers[0].Resources.Requests.Cpu().String() != "50m" {
		t.Errorf("containers %+v: want one envoy of the default image with the parameters' 50m CPU request", spec.Containers)
	}
}

// checkBootstrap: the bootstrap names the cluster and the Gateway, and
// reads the token from the projected file instead of carrying one.
func checkBootstrap(t *testing.T, cm *corev1.ConfigMap, cluster, gateway string) {
	t.Helper()
	raw := cm.Data[provision.BootstrapKey]
	var b struct {
		Node struct {
			Metadata map[string]any `json:"metadata"`
		} `json:"node"`
	}
	if err := yaml.Unmarshal([]byte(raw), &b); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	if got := b.Node.Metadata["causeway.gateway"]; got != gateway {
		t.Errorf("bootstrap node metadata causeway.gateway = %v, want %q", got, gateway)
	}
	if got := b.Node.Metadata["causeway.cluster"]; got != cluster {
		t.Errorf("bootstrap node metadata causeway.cluster = %v, want %q", got, cluster)
	}
	if !strings.Contains(raw, provision.TokenPath) {
		t.Errorf("bootstrap does not read the token file %s:\n%s", provision.TokenPath, raw)
	}
	if strings.Contains(raw, "Bearer ey") {
		t.Errorf("bootstrap inlines a token:\n%s", raw)
	}
	if !strings.Contains(cm.Data[provision.CAKey], "BEGIN CERTIFICATE") {
		t.Errorf("ConfigMap has no CA bundle under %s", provision.CAKey)
	}
}

// gatewayAddresses checks a Gateway's Programmed condition and that its
// status.addresses are exactly want (in any order).
func gatewayAddresses(programmed metav1.ConditionStatus, reason string, want ...string) func(*unstructured.Unstructured) error {
	return func(obj *unstructured.Unstructured) error {
		var g gwv1.Gateway
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &g); err != nil {
			return err
		}
		c := meta.FindStatusCondition(g.Status.Conditions, string(gwv1.GatewayConditionProgrammed))
		if c == nil || c.Status != programmed || c.Reason != reason {
			return fmt.Errorf("Programmed %+v, want %s/%s", c, programmed, reason)
		}
		var got []string
		for _, a := range g.Status.Addresses {
			got = append(got, a.Value)
		}
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			return fmt.Errorf("status.addresses %v, want %v", got, want)
		}
		return nil
	}
}
