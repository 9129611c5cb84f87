package lbstandin

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/causeway-dev/causeway/internal/backend"
)

func endpointSlice(namespace, service string, ports map[string]int32, ready map[netip.Addr]bool) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: service + "-1", Namespace: namespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for name, port := range ports {
		s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr.To(name), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)})
	}
	setConditions(s, ready)
	return s
}

func setConditions(s *discoveryv1.EndpointSlice, ready map[netip.Addr]bool) {
	s.Endpoints = nil
	for _, a := range []netip.Addr{backendA.Addr(), backendB.Addr()} {
		if r, ok := ready[a]; ok {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{a.String()}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(r)}})
		}
	}
}

func setReady(t *testing.T, client kubernetes.Interface, slice *discoveryv1.EndpointSlice, ready map[netip.Addr]bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cur, err := client.DiscoveryV1().EndpointSlices(slice.Namespace).Get(ctx, slice.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setConditions(cur, ready)
	if _, err := client.DiscoveryV1().EndpointSlices(slice.Namespace).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls check every 100 ms until it returns no error, failing t
// after waitTimeout with the last error.
func waitFor[T any](t *testing.T, what string, check func() (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		v, err := check()
		if err == nil {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, waitTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// client opens a connection per request, so each one goes through the
// stand-in's choice of endpoint.
var httpClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func tryGet(url string) (backend.Response, error) {
	var r backend.Response
	resp, err := httpClient.Get(url)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return r, json.NewDecoder(resp.Body).Decode(&r)
}

func get(t *testing.T, url string) backend.Response {
	t.Helper()
	r, err := tryGet(url)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func answeredOnlyBy(url, instance string, n int) (bool, error) {
	for i := 0; i < n; i++ {
		r, err := tryGet(url)
		if err != nil {
			return false, err
		}
		if r.Instance != instance {
			return false, fmt.Errorf("answered by %q, want %q", r.Instance, instance)
		}
	}
	return true, nil
}

func refused(addr netip.Addr, port int) (bool, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(addr.String(), strconv.Itoa(port)), time.Second)
	if err == nil {
		c.Close()
		return false, fmt.Errorf("%v:%d still accepts connections", addr, port)
	}
	return true, nil
}

func mustSucceed(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func buildSampleBackend(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sample-backend")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/causeway-dev/causeway/cmd/sample-backend").CombinedOutput(); err != nil {
		t.Fatalf("go build sample-backend: %v\n%s", err, out)
	}
	return bin
}
