package e2ekube

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/causeway-dev/causeway/model"
)

// proxyNode is the Envoy node a proxy of role and cluster in locality loc
// presents, the way `causeway bootstrap` writes it; a gateway proxy's
// serves every Gateway of its cluster (--all-gateways).
func proxyNode(id string, role model.Role, cluster string, loc model.Locality) *corev3.Node {
	fields := map[string]any{
		model.NodeMetaRole:    string(role),
		model.NodeMetaCluster: cluster,
	}
	if role == model.RoleGateway {
		fields[model.NodeMetaGateway] = model.AllGateways
	}
	md, err := structpb.NewStruct(fields)
	if err != nil {
		panic(err) // constant keys and string values
	}
	return &corev3.Node{Id: id, Metadata: md, Locality: &corev3.Locality{Region: loc.Region, Zone: loc.Zone, SubZone: loc.Subzone}}
}

// edsUpdate is one ClusterLoadAssignment as the client received it; cla is
// nil when the server removed the resource.
type edsUpdate struct {
	at  time.Time
	cla *endpointv3.ClusterLoadAssignment
}

// edsWatch is a delta ADS client, as Envoy runs it, subscribed to one EDS
// resource. It ACKs every response and keeps every assignment it received,
// so a test can check both the latest one and everything in between.
type edsWatch struct {
	name string

	mu      sync.Mutex
	updates []edsUpdate
	err     error         // why the stream ended, once it has
	changed chan struct{} // closed and replaced on every update or error
}

// watchEDS opens a delta ADS stream to xdsAddr as node, authenticated over
// TLS with creds (e2eutil.ProxyTLSConfig: a client certificate whose
// identity matches node, as serve requires), and subscribes to the
// ClusterLoadAssignment name. The stream is closed by t's cleanup.
func watchEDS(t *testing.T, xdsAddr string, creds *tls.Config, node *corev3.Node, name string) *edsWatch {
	t.Helper()
	conn, err := grpc.NewClient(xdsAddr, grpc.WithTransportCredentials(credentials.NewTLS(creds)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		cancel()
		conn.Close()
		t.Fatalf("open delta ADS stream to %s: %v", xdsAddr, err)
	}
	w := &edsWatch{name: name, changed: make(chan struct{})}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
		conn.Close()
	})
	if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{
		Node:                   node,
		TypeUrl:                resourcev3.EndpointType,
		ResourceNamesSubscribe: []string{name},
	}); err != nil {
		t.Fatalf("subscribe to %s: %v", name, err)
	}
	go func() {
		defer close(done)
		w.fail(w.receive(stream))
	}()
	return w
}

// receive records every response for w.name and ACKs it, until the stream ends.
func (w *edsWatch) receive(stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient) error {
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		var upd *edsUpdate
		for _, r := range resp.GetResources() {
			if r.GetName() != w.name {
				continue
			}
			cla := &endpointv3.ClusterLoadAssignment{}
			if err := r.GetResource().UnmarshalTo(cla); err != nil {
				return fmt.Errorf("decode %s: %w", w.name, err)
			}
			upd = &edsUpdate{at: time.Now(), cla: cla}
		}
		for _, name := range resp.GetRemovedResources() {
			if name == w.name {
				upd = &edsUpdate{at: time.Now()}
			}
		}
		if upd != nil {
			w.record(*upd)
		}
		if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{
			TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce(),
		}); err != nil {
			return err
		}
	}
}

func (w *edsWatch) record(u edsUpdate) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.updates = append(w.updates, u)
	close(w.changed)
	w.changed = make(chan struct{})
}

func (w *edsWatch) fail(err error) {
	if err == nil {
		err = errors.New("stream ended")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.err = err
	close(w.changed)
	w.changed = make(chan struct{})
}

// state returns the number of updates so far, the latest one (zero when
// none) and the stream's error, plus a channel closed on the next change.
func (w *edsWatch) state() (int, edsUpdate, error, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var last edsUpdate
	if n := len(w.updates); n > 0 {
		last = w.updates[n-1]
	}
	return len(w.updates), last, w.err, w.changed
}

// since returns the updates from index i on.
func (w *edsWatch) since(i int) []edsUpdate {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]edsUpdate(nil), w.updates[i:]...)
}

// mark is the index the next update will get: pass it to since.
func (w *edsWatch) mark() int {
	n, _, _, _ := w.state()
	return n
}

// await waits at most timeout until the latest assignment satisfies check
// (nil error) and returns it. It fails t with check's last complaint.
func (w *edsWatch) await(t *testing.T, timeout time.Duration, what string, check func(*endpointv3.ClusterLoadAssignment) error) edsUpdate {
	t.Helper()
	u, err := w.awaitErr(timeout, check)
	if err != nil {
		t.Fatalf("%s: not within %v: %v", what, timeout, err)
	}
	return u
}

func (w *edsWatch) awaitErr(timeout time.Duration, check func(*endpointv3.ClusterLoadAssignment) error) (edsUpdate, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		n, last, streamErr, changed := w.state()
		var err error
		switch {
		case n == 0:
			err = fmt.Errorf("no assignment for %s received yet", w.name)
		case last.cla == nil:
			err = fmt.Errorf("%s was removed", w.name)
		default:
			if err = check(last.cla); err == nil {
				return last, nil
			}
		}
		if streamErr != nil {
			return last, fmt.Errorf("ADS stream ended (%v); last: %w", streamErr, err)
		}
		select {
		case <-changed:
		case <-timer.C:
			return last, err
		}
	}
}
