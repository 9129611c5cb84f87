package xds

import (
	"context"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/causeway-dev/causeway/model"
)

// Time limits and per-connection limits on streams, in both modes.

func (h *harness) closedStreams(reason string) float64 {
	return h.metric("causeway_xds_streams_closed_total", map[string]string{"reason": reason})
}

// connFor is a connection to h of the mode under test: plaintext, or TLS
// with a gateway certificate.
func (h *harness) connFor(tlsMode bool) *grpc.ClientConn {
	if tlsMode {
		return h.dialTLS(issueClient(h.t, h.ca, model.RoleGateway, "cluster-1"))
	}
	return h.bigConn(false)
}

// A stream that sends no first request is closed after
// FirstRequestTimeout, with a status saying why.
func TestFirstRequestTimeout(t *testing.T) {
	for _, tlsMode := range []bool{false, true} {
		t.Run(map[bool]string{false: "insecure", true: "tls"}[tlsMode], func(t *testing.T) {
			h := start(t, Options{Insecure: !tlsMode, FirstRequestTimeout: 200 * time.Millisecond})
			conn := h.connFor(tlsMode)
			mute := h.sotwOn(context.Background(), conn, gatewayNode("mute"))
			checkStatus(t, ended(t, mute.in, func() error { return mute.err }), codes.DeadlineExceeded, "no first request within 200ms")
			if v := h.closedStreams(closedFirstRequest); v != 1 {
				t.Errorf("streams closed{first_request_timeout} = %v, want 1", v)
			}
			// A stream that sends its request in time is served, and stays.
			c := h.sotwOn(context.Background(), conn, gatewayNode("prompt"))
			c.served()
			time.Sleep(400 * time.Millisecond)
			h.store.Publish(testWorld(worldOptions{ratings: true}))
			c.expect(resource.ClusterType)
		})
	}
}

// A connection carries at most MaxStreamsPerConnection streams at once;
// another connection has its own.
func TestStreamsPerConnectionAreLimited(t *testing.T) {
	for _, tlsMode := range []bool{false, true} {
		t.Run(map[bool]string{false: "insecure", true: "tls"}[tlsMode], func(t *testing.T) {
			h := start(t, Options{Insecure: !tlsMode, MaxStreamsPerConnection: 2})
			conn := h.connFor(tlsMode)
			a := h.sotwOn(context.Background(), conn, gatewayNode("a"))
			a.served()
			h.sotwOn(context.Background(), conn, gatewayNode("b")).served()
			// gRPC clients hold a third stream back until one of conn's ends
			// (the server announces the limit in its HTTP/2 settings).
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opened := make(chan discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient, 1)
			go func() {
				if st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx); err == nil {
					opened <- st
				}
			}()
			select {
			case <-opened:
				t.Fatal("a third stream opened on a connection limited to two")
			case <-time.After(quietFor):
			}
			h.sotwOn(context.Background(), h.connFor(tlsMode), gatewayNode("elsewhere")).served()
			a.close()
			select {
			case st := <-opened:
				if err := st.Send(&discoveryv3.DiscoveryRequest{Node: gatewayNode("c"), TypeUrl: resource.ClusterType}); err != nil {
					t.Fatal(err)
				}
				if r, err := st.Recv(); err != nil || len(r.GetResources()) == 0 {
					t.Fatalf("third stream: %d clusters, error %v", len(r.GetResources()), err)
				}
			case <-time.After(waitFor):
				t.Fatal("the third stream did not open after another one closed")
			}
		})
	}
}

// A proxy that does not answer a response, or does not read it, has its
// stream closed after ResponseTimeout; one that answers keeps it.
func TestUnansweredResponseClosesStream(t *testing.T) {
	h := start(t, Options{Insecure: true, ResponseTimeout: 300 * time.Millisecond})
	h.store.Publish(adsWorld(adsOpts{apps: 400})) // CDS far beyond a 64 KiB window

	good := h.sotw(adsNode("good"))
	good.sync(resource.ClusterType, nil)

	quiet := h.sotw(adsNode("quiet")) // reads, never answers
	quiet.send(resource.ClusterType, "", "", nil, "")
	quiet.expect(resource.ClusterType)
	checkStatus(t, ended(t, quiet.in, func() error { return quiet.err }), codes.DeadlineExceeded, "unanswered", "--xds-response-timeout")

	// Never reads: gRPC's send blocks on flow control.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(h.bigConn(true)).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, typeURL := range []string{resource.ClusterType, resource.ListenerType} {
		req := &discoveryv3.DiscoveryRequest{TypeUrl: typeURL}
		if typeURL == resource.ClusterType {
			req.Node = adsNode("reads-nothing")
		}
		if err := st.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "both streams closed for not answering", func() bool { return h.closedStreams(closedResponseTimeout) == 2 })
	eventually(t, "the server to let go of the closed streams", func() bool {
		h.srv.smu.Lock()
		defer h.srv.smu.Unlock()
		return len(h.srv.streams) == 1
	})

	// The good proxy answered: its stream stays and gets the next change.
	time.Sleep(600 * time.Millisecond)
	h.store.Publish(adsWorld(adsOpts{apps: 401}))
	good.expect(resource.ClusterType)
}

// Connections end after MaxConnectionAge (and its grace): the proxy
// reconnects, to this replica or another.
func TestMaxConnectionAge(t *testing.T) {
	h := start(t, Options{Insecure: true, MaxConnectionAge: time.Second, MaxConnectionAgeGrace: 200 * time.Millisecond})
	c := h.sotw(gatewayNode("old"))
	c.served()
	err := ended(t, c.in, func() error { return c.err })
	if code := status.Code(err); code != codes.Unavailable {
		t.Fatalf("stream ended with %v, want Unavailable (connection closed)", err)
	}
	// The same client connection reconnects and is served again.
	h.sotw(gatewayNode("again")).served()
}
