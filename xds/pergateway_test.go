package xds

import (
	"slices"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/causeway-dev/causeway/model"
)

// gatewayNodeOf is gatewayNode for a proxy of one Gateway (node metadata
// causeway.gateway).
func gatewayNodeOf(id, gateway string) *corev3.Node {
	n := gatewayNode(id)
	n.Metadata.Fields[model.NodeMetaGateway] = structpb.NewStringValue(gateway)
	return n
}

// TestProxiesOfOneGatewayShareAClass: two proxies of bookinfo/ingress share
// one class and its listener; a proxy of a Gateway that does not exist is
// a class of its own and gets no listener.
func TestProxiesOfOneGatewayShareAClass(t *testing.T) {
	h := start(t, Options{Insecure: true})
	a1 := h.sotw(gatewayNodeOf("ingress-1", "bookinfo/ingress"))
	a2 := h.sotw(gatewayNodeOf("ingress-2", "bookinfo/ingress"))
	other := h.sotw(gatewayNodeOf("other-1", "bookinfo/other"))
	var versions []string
	listeners := map[string][]string{}
	for i, c := range []*sotwClient{a1, a2, other} {
		c.send(resource.ListenerType, "", "", nil, "")
		r := c.expect(resource.ListenerType)
		c.ack(r, nil)
		versions = append(versions, r.GetVersionInfo())
		listeners[[]string{"ingress-1", "ingress-2", "other-1"}[i]] = names(unpack[*listenerv3.Listener](t, r.GetResources()))
	}
	if versions[0] != versions[1] {
		t.Errorf("proxies of one Gateway got versions %q and %q", versions[0], versions[1])
	}
	want := map[string][]string{"ingress-1": {"gateway_8080"}, "ingress-2": {"gateway_8080"}, "other-1": {}}
	for id, l := range want {
		if !slices.Equal(listeners[id], l) {
			t.Errorf("%s got listeners %v, want %v", id, listeners[id], l)
		}
	}
	ingress, unknown := gatewayProxy, gatewayProxy
	ingress.Gateway, unknown.Gateway = "bookinfo/ingress", "bookinfo/other"
	classes := h.srv.ActiveClasses()
	wantClasses := []string{ingress.ClassKey(), unknown.ClassKey()}
	slices.Sort(classes)
	slices.Sort(wantClasses)
	if !slices.Equal(classes, wantClasses) {
		t.Errorf("active classes = %v, want %v", classes, wantClasses)
	}
}
