package v1alpha1_test

import (
	"os"
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
)

// TestDefaultEnvoyImageIsTheTestedEnvoy keeps the provisioned Envoy's
// default image at the version the Makefile installs for the tests.
func TestDefaultEnvoyImageIsTheTestedEnvoy(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ENVOY_VERSION\s*:=\s*(\S+)`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile: no ENVOY_VERSION")
	}
	if want := "envoyproxy/envoy:v" + string(m[1]); v1alpha1.DefaultEnvoyImage != want {
		t.Errorf("DefaultEnvoyImage = %q, want %q (the Makefile's ENVOY_VERSION)", v1alpha1.DefaultEnvoyImage, want)
	}
}

func TestGatewayParametersDefaults(t *testing.T) {
	var none *v1alpha1.GatewayParametersSpec
	if none.ReplicasOrDefault() != 1 || none.ImageOrDefault() != v1alpha1.DefaultEnvoyImage || none.ServiceTypeOrDefault() != corev1.ServiceTypeLoadBalancer {
		t.Errorf("nil spec: %d %q %q", none.ReplicasOrDefault(), none.ImageOrDefault(), none.ServiceTypeOrDefault())
	}
	set := &v1alpha1.GatewayParametersSpec{Replicas: ptr(int32(0)), Image: "envoy:x", Service: &v1alpha1.GatewayServiceParameters{Type: corev1.ServiceTypeClusterIP}}
	if set.ReplicasOrDefault() != 0 || set.ImageOrDefault() != "envoy:x" || set.ServiceTypeOrDefault() != corev1.ServiceTypeClusterIP {
		t.Errorf("set spec: %d %q %q", set.ReplicasOrDefault(), set.ImageOrDefault(), set.ServiceTypeOrDefault())
	}
}
