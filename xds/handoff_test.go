package xds

import (
	"slices"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/causeway-dev/causeway/model"
)

// eastWestProxy is cluster-2's east-west gateway in testWorld: it serves
// cluster-2's reviews endpoint (127.0.2.10) to gateways elsewhere, which
// reach it at 127.0.2.100:15443.
var eastWestProxy = model.Proxy{
	Role: model.RoleEastWest, Cluster: "cluster-2",
	Locality:    model.Locality{Region: "us-west", Zone: "us-west-1a"},
	BindAddress: "127.0.1.1",
}

const (
	cluster2Endpoint = "127.0.2.10:9080"   // in the east-west gateway's load assignment
	cluster2EastWest = "127.0.2.100:15443" // in the gateway's
)

// withCluster2Ready is testWorld with cluster-2's reviews endpoint ready or not.
func withCluster2Ready(ready bool) *model.Snapshot {
	w := testWorld(worldOptions{})
	svc := *w.Service(model.ServiceKey{Cluster: "cluster-2", Namespace: "bookinfo", Name: "reviews-v2"})
	svc.Endpoints = slices.Clone(svc.Endpoints)
	svc.Endpoints[0].Ready = ready
	out, ok := w.With(model.Changes{Services: []model.Service{svc}})
	if !ok {
		panic("testWorld lacks cluster-2's reviews-v2")
	}
	return out
}

// handoffClient is a state-of-the-world proxy past its initial sync.
type handoffClient struct {
	*sotwClient
	eds []string // the load assignments it subscribes to
}

func syncedClient(t *testing.T, h *harness, id string, p model.Proxy) handoffClient {
	t.Helper()
	c := h.sotw(node(id, p.Role, p.Cluster, p.Locality))
	_, want := fetchAll(t, h, c, p)
	return handoffClient{c, names(want.Endpoints)}
}

// endpointUpdate waits for the next EDS response and reports whether any
// load assignment in it has addr.
func (c handoffClient) endpointUpdate(addr string) (*discoveryv3.DiscoveryResponse, bool) {
	c.t.Helper()
	r := c.expect(resource.EndpointType)
	for _, cla := range unpack[*endpointv3.ClusterLoadAssignment](c.t, r.GetResources()) {
		if slices.Contains(endpointAddresses([]*endpointv3.ClusterLoadAssignment{cla}, cla.GetClusterName()), addr) {
			return r, true
		}
	}
	return r, false
}

// TestHandoffOrdersGatewaysAndEastWest: when cluster-2's endpoint leaves,
// the gateway stops sending to cluster-2's east-west gateway before that
// gateway drops the endpoint; when it comes back, the east-west gateway has
// it before the gateway sends there. The timeout is long, so only the
// proxies' ACKs move the handoff on.
func TestHandoffOrdersGatewaysAndEastWest(t *testing.T) {
	h := start(t, Options{Insecure: true, HandoffTimeout: time.Hour})
	gw := syncedClient(t, h, "gateway", gatewayProxy)
	ew := syncedClient(t, h, "eastwest", eastWestProxy)

	h.store.Publish(withCluster2Ready(false))
	r, has := gw.endpointUpdate(cluster2EastWest)
	if has {
		t.Fatalf("leaving: the gateway's first update still sends to %s", cluster2EastWest)
	}
	ew.expectNone(resource.EndpointType) // keeps its endpoint while the gateway may still send
	gw.ack(r, gw.eds)
	r, has = ew.endpointUpdate(cluster2Endpoint)
	if has {
		t.Fatalf("leaving: the east-west gateway's update still has %s", cluster2Endpoint)
	}
	ew.ack(r, ew.eds)
	gw.expectNone(resource.EndpointType) // its handoff world was the new world already

	h.store.Publish(withCluster2Ready(true))
	r, has = ew.endpointUpdate(cluster2Endpoint)
	if !has {
		t.Fatalf("arriving: the east-west gateway's first update lacks %s", cluster2Endpoint)
	}
	gw.expectNone(resource.EndpointType) // must not send there before the east-west gateway has it
	ew.ack(r, ew.eds)
	r, has = gw.endpointUpdate(cluster2EastWest)
	if !has {
		t.Fatalf("arriving: the gateway's update lacks %s", cluster2EastWest)
	}
	gw.ack(r, gw.eds)
	ew.expectNone(resource.EndpointType)
}

// TestHandoffWaitIsBounded: an east-west gateway that never answers delays
// the gateway by the handoff timeout, no more.
func TestHandoffWaitIsBounded(t *testing.T) {
	const timeout = 500 * time.Millisecond
	h := start(t, Options{Insecure: true, HandoffTimeout: timeout})
	h.store.Publish(withCluster2Ready(false))
	gw := syncedClient(t, h, "gateway", gatewayProxy)
	ew := syncedClient(t, h, "eastwest", eastWestProxy)

	published := time.Now()
	h.store.Publish(withCluster2Ready(true))
	if _, has := ew.endpointUpdate(cluster2Endpoint); !has {
		t.Fatalf("arriving: the east-west gateway's update lacks %s", cluster2Endpoint)
	} // and it never answers
	r, has := gw.endpointUpdate(cluster2EastWest)
	took := time.Since(published)
	if !has {
		t.Fatalf("arriving: the gateway's update lacks %s", cluster2EastWest)
	}
	gw.ack(r, gw.eds)
	t.Logf("the gateway got the new world %v after it was published (handoff timeout %v)", took.Round(time.Millisecond), timeout)
	if took < timeout {
		t.Errorf("the gateway got the new world after %v, before the east-west gateway answered or the timeout %v passed", took, timeout)
	}
	if took > timeout+3*time.Second {
		t.Errorf("the gateway got the new world after %v, long after the handoff timeout %v", took, timeout)
	}
}

// TestHandoffNeedsBothRoles: with only gateways connected there is nothing
// to order: no handoff world is published (so nothing is waited for). Once
// an east-west gateway connects, the same change has a handoff.
func TestHandoffNeedsBothRoles(t *testing.T) {
	h := start(t, Options{Insecure: true, HandoffTimeout: time.Hour})
	gw := syncedClient(t, h, "gateway", gatewayProxy)
	down := withCluster2Ready(false) // not in the store: the server's own updates stay out of the way
	if targets := h.srv.publishHandoff(down); len(targets) != 0 {
		t.Errorf("gateways only: handoff published to %v", targets)
	}
	gw.expectNone(resource.EndpointType)

	syncedClient(t, h, "eastwest", eastWestProxy)
	targets := h.srv.publishHandoff(down)
	if len(targets) != 1 || targets[0].class != gatewayProxy.ClassKey() {
		t.Errorf("gateway and east-west gateway: handoff published to %v, want the gateway's class", targets)
	}
	if _, has := gw.endpointUpdate(cluster2EastWest); has {
		t.Errorf("the gateway's handoff world still sends to %s", cluster2EastWest)
	}
}

// TestHandoffOrdersClientsAndEastWest: a client proxy sends to east-west
// gateways as a gateway does, so an endpoint leaving cluster-2 leaves the
// client's load assignment before the east-west gateway drops it.
func TestHandoffOrdersClientsAndEastWest(t *testing.T) {
	h := start(t, Options{Insecure: true, HandoffTimeout: time.Hour})
	client := gatewayProxy
	client.Role, client.Gateway = model.RoleClient, ""
	cl := syncedClient(t, h, "client", client)
	ew := syncedClient(t, h, "eastwest", eastWestProxy)

	h.store.Publish(withCluster2Ready(false))
	r, has := cl.endpointUpdate(cluster2EastWest)
	if has {
		t.Fatalf("leaving: the client's first update still sends to %s", cluster2EastWest)
	}
	ew.expectNone(resource.EndpointType) // keeps its endpoint while the client may still send
	cl.ack(r, cl.eds)
	if r, has = ew.endpointUpdate(cluster2Endpoint); has {
		t.Fatalf("leaving: the east-west gateway's update still has %s", cluster2Endpoint)
	}
	ew.ack(r, ew.eds)
}
