package main

import (
	"strings"
	"testing"
)

// TestTranslateControllerName: --controller-name picks which GatewayClasses,
// and so which Gateways, are Causeway's. The golden world gateway-other-class
// has Causeway's Gateway on 8080 and another controller's on 80.
func TestTranslateControllerName(t *testing.T) {
	const world = "../../testdata/translator/gateway-other-class/world.yaml"
	for _, tc := range []struct {
		name       string
		args       []string
		want, lack string
	}{
		{"default", nil, "name: gateway_8080\n", "name: gateway_80\n"},
		{"the other controller's name", []string{"--controller-name", "example.com/other-controller"}, "name: gateway_80\n", "name: gateway_8080\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"translate", "--world", world, "--role", "gateway", "--cluster", "cluster-1", "--all-gateways", "--type", "listeners"}, tc.args...)
			_, out, errOut := causeway(t, args...)
			if !strings.Contains(out, tc.want) || strings.Contains(out, tc.lack) {
				t.Errorf("listeners want %q and not %q; got:\n%s\nstderr:\n%s", tc.want, tc.lack, out, errOut)
			}
		})
	}
}
