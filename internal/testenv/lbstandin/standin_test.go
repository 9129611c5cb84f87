package lbstandin

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
	"github.com/causeway-dev/causeway/internal/testenv/netns"
)

// This package's addresses (see the allocation in internal/testenv/netns
// and the issue-12 plan): backends in 198.18.76.0/24, LB addresses from
// 127.0.81.0/24.
var (
	hostAddr    = netip.MustParsePrefix("198.18.76.1/24")
	backendA    = netip.MustParsePrefix("198.18.76.10/24")
	backendB    = netip.MustParsePrefix("198.18.76.11/24")
	lbPool      = netip.MustParsePrefix("127.0.81.0/24")
	backendPort = 9080
)

const waitTimeout = 20 * time.Second

// TestForwardsToReadyEndpoints runs the stand-in against a real apiserver
// with two real backends in a network namespace: a LoadBalancer Service
// gets an address and its status, traffic reaches the ready endpoint,
// readiness and port changes are followed, and deleting the Service closes
// its listener and frees the address.
func TestForwardsToReadyEndpoints(t *testing.T) {
	ns := netns.Create(t, "lb", hostAddr, backendA, backendB)
	env := kubeenv.Start(t, "lb")
	client := env.Cluster("lb").Clientset()
	bin := buildSampleBackend(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, a := range []netip.Prefix{backendA, backendB} {
		addr := netip.AddrPortFrom(a.Addr(), uint16(backendPort)).String()
		if _, err := ns.Exec(ctx, bin, "--address", addr, "--cluster", "lb", "--instance", "ab"[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	lb := Start(t, client, lbPool)

	const namespace = "lbtest"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: namespace},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(int32(backendPort))}},
		},
	}
	svc, err := client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{})
	mustSucceed(t, err)
	// A ClusterIP Service is not the stand-in's business.
	_, err = client.CoreV1().Services(namespace).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "internal", Namespace: namespace},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}, metav1.CreateOptions{})
	mustSucceed(t, err)
	slice := endpointSlice(namespace, "web", map[string]int32{"http": int32(backendPort)},
		map[netip.Addr]bool{backendA.Addr(): true, backendB.Addr(): false})
	slice, err = client.DiscoveryV1().EndpointSlices(namespace).Create(ctx, slice, metav1.CreateOptions{})
	mustSucceed(t, err)

	addr := waitFor(t, "status.loadBalancer.ingress of web", func() (netip.Addr, error) {
		cur, err := client.CoreV1().Services(namespace).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return netip.Addr{}, err
		}
		if ing := cur.Status.LoadBalancer.Ingress; len(ing) != 1 {
			return netip.Addr{}, fmt.Errorf("ingress %v", ing)
		}
		return netip.ParseAddr(cur.Status.LoadBalancer.Ingress[0].IP)
	})
	if !lbPool.Contains(addr) {
		t.Fatalf("ingress address %v not from the pool %v", addr, lbPool)
	}
	if got, ok := lb.Address(namespace, "web"); !ok || got != addr {
		t.Errorf("Address(web) = %v, %v; want %v (the status)", got, ok, addr)
	}
	if got, ok := lb.Address(namespace, "internal"); ok {
		t.Errorf("ClusterIP Service internal got address %v", got)
	}
	url80 := "http://" + netip.AddrPortFrom(addr, 80).String() + "/"

	t.Run("reaches the ready endpoint", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			if got := get(t, url80); got.Instance != "a" {
				t.Fatalf("request %d answered by %q, want a (b is not ready)", i, got.Instance)
			}
		}
	})

	t.Run("follows readiness", func(t *testing.T) {
		setReady(t, client, slice, map[netip.Addr]bool{backendA.Addr(): false, backendB.Addr(): true})
		waitFor(t, "answers from b only", func() (bool, error) { return answeredOnlyBy(url80, "b", 4) })
		setReady(t, client, slice, map[netip.Addr]bool{backendA.Addr(): true, backendB.Addr(): true})
		waitFor(t, "answers from a and b, round-robin", func() (bool, error) {
			seen := map[string]int{}
			for i := 0; i < 4; i++ {
				r, err := tryGet(url80)
				if err != nil {
					return false, err
				}
				seen[r.Instance]++
			}
			if seen["a"] != 2 || seen["b"] != 2 {
				return false, fmt.Errorf("answers %v, want 2 each", seen)
			}
			return true, nil
		})
	})

	t.Run("no ready endpoint closes the connection", func(t *testing.T) {
		setReady(t, client, slice, map[netip.Addr]bool{backendA.Addr(): false, backendB.Addr(): false})
		before := lb.Connections(namespace, "web", 80)
		waitFor(t, "connections closed without an answer", func() (bool, error) {
			if _, err := tryGet(url80); err == nil {
				return false, errors.New("got an answer")
			}
			return true, nil
		})
		if after := lb.Connections(namespace, "web", 80); after <= before {
			t.Errorf("connections counter %d -> %d: the listener did not accept (closed by whom?)", before, after)
		}
		setReady(t, client, slice, map[netip.Addr]bool{backendA.Addr(): true, backendB.Addr(): false})
	})

	url8080 := "http://" + netip.AddrPortFrom(addr, 8080).String() + "/"
	t.Run("follows ports", func(t *testing.T) {
		cur, err := client.CoreV1().Services(namespace).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Spec.Ports = []corev1.ServicePort{{Name: "alt", Port: 8080, TargetPort: intstr.FromInt32(int32(backendPort))}}
		if _, err := client.CoreV1().Services(namespace).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		s, err := client.DiscoveryV1().EndpointSlices(namespace).Get(ctx, slice.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Ports = []discoveryv1.EndpointPort{{Name: ptr.To("alt"), Port: ptr.To(int32(backendPort)), Protocol: ptr.To(corev1.ProtocolTCP)}}
		if _, err := client.DiscoveryV1().EndpointSlices(namespace).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "port 8080 answering from a", func() (bool, error) { return answeredOnlyBy(url8080, "a", 2) })
		waitFor(t, "port 80 refusing connections", func() (bool, error) { return refused(addr, 80) })
		if got, _ := lb.Address(namespace, "web"); got != addr {
			t.Errorf("address changed with the ports: %v -> %v", addr, got)
		}
	})

	t.Run("deletion closes the listener and frees the address", func(t *testing.T) {
		if err := client.CoreV1().Services(namespace).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "port 8080 refusing connections", func() (bool, error) { return refused(addr, 8080) })
		if got, ok := lb.Address(namespace, "web"); ok {
			t.Errorf("deleted Service still holds %v", got)
		}
		// The freed address is the lowest free one again.
		next := svc.DeepCopy()
		next.ObjectMeta = metav1.ObjectMeta{Name: "web2", Namespace: namespace}
		next.Spec.ClusterIP, next.Spec.ClusterIPs = "", nil
		for i := range next.Spec.Ports {
			next.Spec.Ports[i].NodePort = 0
		}
		if _, err := client.CoreV1().Services(namespace).Create(ctx, next, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitFor(t, "address of web2", func() (netip.Addr, error) {
			if a, ok := lb.Address(namespace, "web2"); ok {
				return a, nil
			}
			return netip.Addr{}, errors.New("none yet")
		})
		if got != addr {
			t.Errorf("web2 got %v, want the freed %v", got, addr)
		}
	})
	if n := lb.Errors(); n != 0 {
		t.Errorf("stand-in gave up %d times", n)
	}
}
