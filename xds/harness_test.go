package xds

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/prometheus/client_golang/prometheus"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// Bounds for waiting on the server; every wait in these tests is bounded.
const (
	waitFor   = 5 * time.Second        // something that must happen
	quietFor  = 300 * time.Millisecond // something that must not happen
	pollEvery = 10 * time.Millisecond
)

const (
	reviewsHost = "reviews.mesh.internal.com"
	ratingsHost = "ratings.mesh.internal.com"
)

// worldOptions vary the test world between publishes.
type worldOptions struct {
	extraEndpoint bool // a second ready reviews endpoint in cluster-1
	ratings       bool // a second VirtualDestination (a new cluster)
}

func ptr[T any](v T) *T { return &v }

// testWorld is a two-cluster world: reviews in both clusters behind one
// VirtualDestination, and a Gateway in cluster-1 routing to it.
func testWorld(o worldOptions) *model.Snapshot {
	svc := func(cluster, name, version string, addrs ...string) model.Service {
		s := model.Service{
			Cluster: cluster, Namespace: "bookinfo", Name: name,
			Labels: map[string]string{"app": "reviews", "version": version},
			Ports:  []model.ServicePort{{Name: "http", Port: 9080, TargetPort: 9080, Protocol: "HTTP"}},
		}
		for _, a := range addrs {
			s.Endpoints = append(s.Endpoints, model.Endpoint{
				Address: a, Ready: true,
				Ports: []model.EndpointPort{{Name: "http", Port: 9080}},
			})
		}
		return s
	}
	local := []string{"127.0.1.10"}
	if o.extraEndpoint {
		local = append(local, "127.0.1.11")
	}
	w := model.World{
		Clusters: []model.Cluster{
			{Name: "cluster-1", Network: "network-1", Locality: model.Locality{Region: "us-east", Zone: "us-east-1a"},
				EastWestGateways: []model.GatewayAddress{{Address: "127.0.1.100", Port: 15443}, {Address: "127.0.1.101", Port: 15443}}},
			{Name: "cluster-2", Network: "network-2", Locality: model.Locality{Region: "us-west", Zone: "us-west-1a"},
				EastWestGateways: []model.GatewayAddress{{Address: "127.0.2.100", Port: 15443}}},
		},
		Services: []model.Service{
			svc("cluster-1", "reviews-v1", "v1", local...),
			svc("cluster-2", "reviews-v2", "v2", "127.0.2.10"),
		},
		VirtualDestinations: []model.VirtualDestination{{
			Namespace: "bookinfo", Name: "reviews",
			Hosts:    []string{reviewsHost},
			Ports:    []model.VirtualDestinationPort{{Number: 9080, Protocol: "HTTP", TargetPort: &model.TargetPort{Name: "http"}}},
			Services: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
		}},
		GatewayClasses: []*model.GatewayClass{causewayClass()},
		Gateways:       []*model.Gateway{ingressGateway("bookinfo", "cluster-1")},
		HTTPRoutes:     []*model.HTTPRoute{hostnameRoute("bookinfo", "reviews", reviewsHost, 9080)},
	}
	if o.ratings {
		w.VirtualDestinations = append(w.VirtualDestinations, model.VirtualDestination{
			Namespace: "bookinfo", Name: "ratings",
			Hosts:    []string{ratingsHost},
			Ports:    []model.VirtualDestinationPort{{Number: 9080, Protocol: "HTTP"}},
			Services: []model.ServiceSelector{{Labels: map[string]string{"app": "reviews"}}},
		})
	}
	return model.NewSnapshot(w)
}

// gatewayProxy is the identity gatewayNode describes.
var gatewayProxy = model.Proxy{
	Role: model.RoleGateway, Cluster: "cluster-1",
	Locality:    model.Locality{Region: "us-east", Zone: "us-east-1a"},
	BindAddress: "127.0.1.1",
	Gateway:     model.AllGateways,
}

// node is an Envoy node of role in cluster; a gateway proxy's serves every
// Gateway of its cluster.
func node(id string, role model.Role, cluster string, loc model.Locality) *corev3.Node {
	fields := map[string]any{
		model.NodeMetaRole:        string(role),
		model.NodeMetaCluster:     cluster,
		model.NodeMetaBindAddress: "127.0.1.1",
	}
	if role == model.RoleGateway {
		fields[model.NodeMetaGateway] = model.AllGateways
	}
	md, err := structpb.NewStruct(fields)
	if err != nil {
		panic(err)
	}
	return &corev3.Node{Id: id, Metadata: md, Locality: &corev3.Locality{Region: loc.Region, Zone: loc.Zone, SubZone: loc.Subzone}}
}

func gatewayNode(id string) *corev3.Node {
	return node(id, gatewayProxy.Role, gatewayProxy.Cluster, gatewayProxy.Locality)
}

// syncBuffer collects the server's log; it is printed when a test fails.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t     *testing.T
	srv   *Server
	store *model.Store
	ca    *ca.CA
	reg   *prometheus.Registry
	log   *syncBuffer
	conn  *grpc.ClientConn // plaintext; nil unless Options.Insecure
	addr  string           // the server's address
	stop  func()           // stops the server and waits for Serve to return
}

// start runs a Server on a loopback port with testWorld(worldOptions{}).
// configure, if given, adjusts the server before it serves.
func start(t *testing.T, opts Options, configure ...func(*Server)) *harness {
	t.Helper()
	h := &harness{t: t, store: &model.Store{}, reg: prometheus.NewRegistry(), log: &syncBuffer{}}
	h.store.Publish(testWorld(worldOptions{}))
	var err error
	if h.ca, err = ca.LoadOrCreate(t.TempDir(), "causeway.local"); err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.CA, opts.Registry = h.store, h.ca, h.reg
	opts.Log = slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if h.srv, err = NewServer(opts); err != nil {
		t.Fatal(err)
	}
	for _, f := range configure {
		f(h.srv)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- h.srv.Serve(ctx, lis) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(waitFor + stopGrace):
				t.Error("Serve did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", h.log.String())
		}
	})
	h.addr = lis.Addr().String()
	if !opts.Insecure {
		return h // TLS: tests dial with the credentials they test (auth_test.go)
	}
	if h.conn, err = grpc.NewClient(h.addr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.conn.Close() })
	return h
}

// want is what the translator produces for p from the store's world, with
// the credentials the server issued (so secrets compare exactly).
func (h *harness) want(p model.Proxy) *translator.Resources {
	h.t.Helper()
	h.srv.mu.Lock()
	l := h.srv.certs[h.ca.SpiffeID(string(p.Role), p.Cluster)]
	h.srv.mu.Unlock()
	if l == nil {
		h.t.Fatalf("no certificate issued for %v", p)
	}
	return translator.Translate(h.store.Load(), p, translator.Credentials{
		CertChainPEM: l.certPEM, PrivateKeyPEM: l.keyPEM, RootCAPEM: h.ca.RootPEM(),
		SpiffeID: h.ca.SpiffeID(string(p.Role), p.Cluster), TrustDomain: h.ca.TrustDomain(),
	})
}

// metric returns the value of the counter or gauge name with labels (0 if absent).
func (h *harness) metric(name string, labels map[string]string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			if len(got) != len(labels) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pollEvery)
	}
}

// sotwClient is a state-of-the-world ADS client.
type sotwClient struct {
	t       *testing.T
	node    *corev3.Node
	stream  discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	cancel  context.CancelFunc
	in      chan *discoveryv3.DiscoveryResponse
	pending map[string][]*discoveryv3.DiscoveryResponse
	first   bool
	err     error // why the stream ended; read after in is closed
}

func (h *harness) sotw(n *corev3.Node) *sotwClient {
	h.t.Helper()
	return h.sotwOn(context.Background(), h.conn, n)
}

// sotwOn opens a stream on conn with ctx (which may carry metadata).
func (h *harness) sotwOn(ctx context.Context, conn *grpc.ClientConn, n *corev3.Node) *sotwClient {
	h.t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	c := &sotwClient{t: h.t, node: n, stream: stream, cancel: cancel, in: make(chan *discoveryv3.DiscoveryResponse, 64),
		pending: map[string][]*discoveryv3.DiscoveryResponse{}, first: true}
	go func() {
		defer close(c.in)
		for {
			r, err := stream.Recv()
			if err != nil {
				c.err = err
				return
			}
			c.in <- r
		}
	}()
	h.t.Cleanup(cancel)
	return c
}

// send sends a request; like Envoy, only the first one carries the node.
func (c *sotwClient) send(typeURL, version, nonce string, names []string, nackMessage string) {
	c.t.Helper()
	req := &discoveryv3.DiscoveryRequest{TypeUrl: typeURL, VersionInfo: version, ResponseNonce: nonce, ResourceNames: names}
	if c.first {
		req.Node, c.first = c.node, false
	}
	if nackMessage != "" {
		req.ErrorDetail = &statuspb.Status{Code: 3, Message: nackMessage}
	}
	if err := c.stream.Send(req); err != nil {
		c.t.Fatalf("send %s: %v", typeURL, err)
	}
}

// ack acknowledges r.
func (c *sotwClient) ack(r *discoveryv3.DiscoveryResponse, names []string) {
	c.t.Helper()
	c.send(r.GetTypeUrl(), r.GetVersionInfo(), r.GetNonce(), names, "")
}

func (c *sotwClient) next(timeout time.Duration, typeURL string) *discoveryv3.DiscoveryResponse {
	if q := c.pending[typeURL]; len(q) > 0 {
		c.pending[typeURL] = q[1:]
		return q[0]
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case r, ok := <-c.in:
			if !ok {
				return nil
			}
			if r.GetTypeUrl() == typeURL {
				return r
			}
			c.pending[r.GetTypeUrl()] = append(c.pending[r.GetTypeUrl()], r)
		case <-timer.C:
			return nil
		}
	}
}

// expect returns the next response of typeURL, failing after waitFor.
func (c *sotwClient) expect(typeURL string) *discoveryv3.DiscoveryResponse {
	c.t.Helper()
	r := c.next(waitFor, typeURL)
	if r == nil {
		c.t.Fatalf("no %s response within %v", typeURL, waitFor)
	}
	return r
}

// expectNone fails if a response of typeURL arrives within quietFor.
func (c *sotwClient) expectNone(typeURL string) {
	c.t.Helper()
	if r := c.next(quietFor, typeURL); r != nil {
		c.t.Fatalf("unexpected %s response version %q with %d resources", typeURL, r.GetVersionInfo(), len(r.GetResources()))
	}
}

func (c *sotwClient) close() { c.cancel() }

// unpack decodes every resource into a fresh message of type T.
func unpack[T proto.Message](t *testing.T, anys []*anypb.Any) []T {
	t.Helper()
	out := make([]T, 0, len(anys))
	for _, a := range anys {
		m, err := a.UnmarshalNew()
		if err != nil {
			t.Fatalf("unpack %s: %v", a.GetTypeUrl(), err)
		}
		v, ok := m.(T)
		if !ok {
			t.Fatalf("resource is %T", m)
		}
		out = append(out, v)
	}
	return out
}

// sortByName sorts resources as the translator does, by resource name.
func sortByName[T types.Resource](rs []T) []T {
	sort.Slice(rs, func(i, j int) bool { return cache.GetResourceName(rs[i]) < cache.GetResourceName(rs[j]) })
	return rs
}

func names[T types.Resource](rs []T) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, cache.GetResourceName(r))
	}
	return out
}

// deltaClient is a delta (incremental) ADS client.
type deltaClient struct {
	t      *testing.T
	node   *corev3.Node
	stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	cancel context.CancelFunc
	in     chan *discoveryv3.DeltaDiscoveryResponse
	first  bool
	err    error // why the stream ended; read after in is closed
}

func (h *harness) delta(n *corev3.Node) *deltaClient {
	h.t.Helper()
	return h.deltaOn(context.Background(), h.conn, n)
}

// deltaOn opens a delta stream on conn with ctx (which may carry metadata).
func (h *harness) deltaOn(ctx context.Context, conn *grpc.ClientConn, n *corev3.Node) *deltaClient {
	h.t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	c := &deltaClient{t: h.t, node: n, stream: stream, cancel: cancel, in: make(chan *discoveryv3.DeltaDiscoveryResponse, 64), first: true}
	go func() {
		defer close(c.in)
		for {
			r, err := stream.Recv()
			if err != nil {
				c.err = err
				return
			}
			c.in <- r
		}
	}()
	h.t.Cleanup(cancel)
	return c
}

func (c *deltaClient) send(req *discoveryv3.DeltaDiscoveryRequest) {
	c.t.Helper()
	if c.first {
		req.Node, c.first = c.node, false
	}
	if err := c.stream.Send(req); err != nil {
		c.t.Fatalf("send %s: %v", req.GetTypeUrl(), err)
	}
}

// expect returns the next response, which must be of typeURL.
func (c *deltaClient) expect(typeURL string) *discoveryv3.DeltaDiscoveryResponse {
	c.t.Helper()
	select {
	case r, ok := <-c.in:
		if !ok {
			c.t.Fatalf("stream ended waiting for %s", typeURL)
		}
		if r.GetTypeUrl() != typeURL {
			c.t.Fatalf("got %s response, want %s", r.GetTypeUrl(), typeURL)
		}
		return r
	case <-time.After(waitFor):
		c.t.Fatalf("no %s response within %v", typeURL, waitFor)
	}
	return nil
}

// subscribe subscribes to names of typeURL (none: wildcard), acks the
// response and returns its resources decoded.
func deltaSubscribe[T proto.Message](c *deltaClient, typeURL string, names []string) []T {
	c.t.Helper()
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesSubscribe: names})
	r := c.expect(typeURL)
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: r.GetNonce()})
	return deltaResources[T](c.t, r)
}

func deltaResources[T proto.Message](t *testing.T, r *discoveryv3.DeltaDiscoveryResponse) []T {
	t.Helper()
	anys := make([]*anypb.Any, 0, len(r.GetResources()))
	for _, res := range r.GetResources() {
		anys = append(anys, res.GetResource())
	}
	return unpack[T](t, anys)
}

// causewayClass is the GatewayClass "causeway" of Causeway's default
// controllerName, which ingressGateway names.
func causewayClass() *model.GatewayClass {
	return &model.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "causeway"},
		Spec: gwv1.GatewayClassSpec{ControllerName: model.DefaultControllerName}}
}

// ingressGateway is a Gateway "ingress" in namespace ns of a cluster, with
// one HTTP listener on port 8080.
func ingressGateway(ns, cluster string) *model.Gateway {
	return &model.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ingress", Annotations: map[string]string{model.ClusterAnnotation: cluster}},
		Spec: gwv1.GatewaySpec{GatewayClassName: "causeway", Listeners: []gwv1.Listener{
			{Name: "http", Port: 8080, Protocol: gwv1.HTTPProtocolType},
		}},
	}
}

// hostnameRoute is an HTTPRoute on ingressGateway sending everything to
// the VirtualDestination host:port (a Hostname backendRef).
func hostnameRoute(ns, name, host string, port gwv1.PortNumber) *model.HTTPRoute {
	return &model.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gwv1.HTTPRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "ingress"}}},
			Rules: []gwv1.HTTPRouteRule{{BackendRefs: []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{
				BackendObjectReference: gwv1.BackendObjectReference{
					Group: ptr(gwv1.Group(model.IstioAPIGroup)), Kind: ptr(gwv1.Kind("Hostname")),
					Name: gwv1.ObjectName(host), Port: ptr(port),
				},
			}}}}},
		},
	}
}
