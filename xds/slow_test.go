package xds

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/causeway-dev/causeway/api/v1alpha1"
	"github.com/causeway-dev/causeway/model"
)

// silentWorld is the world: n VirtualDestinations over three
// clusters; changed applies one OutlierDetectionPolicy to every one of
// them, which changes every cluster (not their load assignments).
func silentWorld(n int, changed bool) *model.Snapshot {
	w := benchWorldSpec(n, 2)
	if changed {
		for i := range w.VirtualDestinations {
			w.VirtualDestinations[i].Labels = map[string]string{"tier": "all"}
		}
		w.OutlierDetectionPolicies = []*model.OutlierDetectionPolicy{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "everything"},
			Spec: v1alpha1.OutlierDetectionPolicySpec{ApplyToDestinations: []v1alpha1.DestinationSelector{
				{Selector: v1alpha1.ObjectSelector{Labels: map[string]string{"tier": "all"}}},
			}},
		}}
	}
	return model.NewSnapshot(w)
}

// bigConn is a plaintext connection to h that takes responses of any size.
// A fixed 64 KiB stream window (no BDP growth) makes a client that stops
// reading stop its stream at once, as a stuck proxy's would.
func (h *harness) bigConn(fixedWindow bool) *grpc.ClientConn {
	h.t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1 << 30))}
	if fixedWindow {
		opts = append(opts, grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	}
	conn, err := grpc.NewClient(h.addr, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	return conn
}

// syncThenStall opens a delta stream on its own connection that subscribes
// to every cluster and load assignment, acknowledges the initial sync like
// any proxy, and then never reads or answers again.
func syncThenStall(ctx context.Context, conn *grpc.ClientConn, n *corev3.Node, eds []string) error {
	st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return err
	}
	for i, req := range []*discoveryv3.DeltaDiscoveryRequest{
		{Node: n, TypeUrl: resource.ClusterType},
		{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: eds},
	} {
		if err := st.Send(req); err != nil {
			return err
		}
		r, err := st.Recv()
		if err != nil {
			return err
		}
		if r.GetTypeUrl() != req.GetTypeUrl() {
			return fmt.Errorf("request %d: got a %s response, want %s", i, r.GetTypeUrl(), req.GetTypeUrl())
		}
		if err := st.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: r.GetTypeUrl(), ResponseNonce: r.GetNonce()}); err != nil {
			return err
		}
	}
	return nil // and never again: the stream stays open until ctx ends
}

// The scenario: a world of 3,000 destinations, 64 delta streams
// that subscribe and then never read or answer, a change to every cluster.
// A well-behaved gateway gets the change within a few seconds: the silent
// streams' responses give up their send budget after SendBudgetHold, and
// no response waits longer than that for budget. (Before, it got it after
// about two minutes: the silent streams held the budget until then.)
func TestSilentStreamsDoNotStallOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("3,000 destinations and 65 streams")
	}
	const (
		destinations = 3000
		silent       = 64
		bound        = 15 * time.Second // generous: about 5 s expected on a busy machine
	)
	h := start(t, Options{Insecure: true})
	h.store.Publish(silentWorld(destinations, false))
	var eds []string
	for i := range destinations {
		eds = append(eds, app(i))
	}

	gw := h.deltaOn(context.Background(), h.bigConn(false), adsNode("well-behaved"))
	gw.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType})
	r := gw.expect(resource.ClusterType)
	if got := len(r.GetResources()); got != destinations {
		t.Fatalf("%d clusters, want %d", got, destinations)
	}
	gw.ackDelta(r)
	gw.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: eds})
	gw.ackDelta(gw.expect(resource.EndpointType))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, silent)
	for i := range silent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := syncThenStall(ctx, h.bigConn(true), adsNode(fmt.Sprintf("silent-%d", i)), eds); err != nil {
				errs <- fmt.Errorf("silent stream %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	// Twice: the first change may find the budget free; the second finds
	// it taken by the silent streams' responses to the first.
	for k, changed := range []bool{true, false} {
		start := time.Now()
		h.store.Publish(silentWorld(destinations, changed))
		for _, typeURL := range []string{resource.ClusterType, resource.EndpointType} {
			var r *discoveryv3.DeltaDiscoveryResponse
			select {
			case r = <-gw.in:
			case <-time.After(bound):
				t.Fatalf("change %d: the well-behaved gateway got no %s update within %v", k+1, typeURL, bound)
			}
			if r.GetTypeUrl() != typeURL || len(r.GetResources()) != destinations {
				t.Fatalf("change %d: got a %s response with %d resources, want every %s", k+1, r.GetTypeUrl(), len(r.GetResources()), typeURL)
			}
			t.Logf("change %d: well-behaved gateway got every %s (%d bytes) %v after the change, with %d silent streams",
				k+1, typeURL, proto.Size(r), time.Since(start).Round(time.Millisecond), silent)
			gw.ackDelta(r)
		}
	}
}
