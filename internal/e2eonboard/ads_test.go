package e2eonboard

import (
	"context"
	"crypto/tls"
	"fmt"
	"sort"
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

// gatewayNode is the node a gateway proxy of cluster serving every
// Gateway of its cluster presents, as `causeway bootstrap --all-gateways`
// writes it.
func gatewayNode(id, cluster string) *corev3.Node {
	md, err := structpb.NewStruct(map[string]any{
		model.NodeMetaRole:    string(model.RoleGateway),
		model.NodeMetaCluster: cluster,
		model.NodeMetaGateway: model.AllGateways,
	})
	if err != nil {
		panic(err) // constant keys and string values
	}
	return &corev3.Node{Id: id, Metadata: md}
}

// awaitEndpoints opens a delta ADS stream to xdsAddr as node over TLS
// (creds), subscribes to the ClusterLoadAssignment name, ACKs every
// response, and returns the endpoints ("priority locality address") of
// the first assignment check accepts, or fails t after timeout with the
// last one received.
func awaitEndpoints(t *testing.T, xdsAddr string, creds *tls.Config, node *corev3.Node, name string, timeout time.Duration, check func([]string) error) []string {
	t.Helper()
	conn, err := grpc.NewClient(xdsAddr, grpc.WithTransportCredentials(credentials.NewTLS(creds)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatalf("open delta ADS stream to %s: %v", xdsAddr, err)
	}
	if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{
		Node: node, TypeUrl: resourcev3.EndpointType, ResourceNamesSubscribe: []string{name},
	}); err != nil {
		t.Fatalf("subscribe to %s: %v", name, err)
	}
	last := fmt.Errorf("no assignment for %s received", name)
	for {
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("%s: not within %v (stream: %v); last: %v", name, timeout, err, last)
		}
		for _, r := range resp.GetResources() {
			if r.GetName() != name {
				continue
			}
			cla := &endpointv3.ClusterLoadAssignment{}
			if err := r.GetResource().UnmarshalTo(cla); err != nil {
				t.Fatalf("decode %s: %v", name, err)
			}
			got := flatten(cla)
			if last = check(got); last == nil {
				return got
			}
		}
		if err := stream.Send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()}); err != nil {
			t.Fatalf("ACK: %v", err)
		}
	}
}

// flatten lists cla's endpoints as "p<priority> <region/zone/subzone>
// <ip:port>", sorted.
func flatten(cla *endpointv3.ClusterLoadAssignment) []string {
	var out []string
	for _, g := range cla.GetEndpoints() {
		l := g.GetLocality()
		for _, ep := range g.GetLbEndpoints() {
			sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
			out = append(out, fmt.Sprintf("p%d %s/%s/%s %s:%d", g.GetPriority(), l.GetRegion(), l.GetZone(), l.GetSubZone(), sa.GetAddress(), sa.GetPortValue()))
		}
	}
	sort.Strings(out)
	return out
}
