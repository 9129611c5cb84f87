package bootstrap

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/causeway-dev/causeway/model"
)

// XDSClusterName is the static cluster pointing at the Causeway xDS server.
const XDSClusterName = "causeway_xds"

// Defaults used when Options leaves an address empty.
const (
	DefaultXDSAddress   = "127.0.0.1:18000"
	DefaultAdminAddress = "127.0.0.1:19000"
)

// httpProtocolOptionsKey is the typed_extension_protocol_options key Envoy
// reads upstream HTTP settings from.
const httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// Options describe the proxy the bootstrap is for.
type Options struct {
	Role     model.Role
	Cluster  string
	Locality model.Locality
	// BindAddress is where the proxy's listeners bind and its upstream
	// connections originate; empty means 0.0.0.0.
	BindAddress string
	// Gateway is the Gateway a gateway proxy serves, "<namespace>/<name>",
	// or model.AllGateways for every Gateway of its cluster; required for
	// RoleGateway, empty for RoleEastWest.
	Gateway string
	// Namespace is the namespace whose clients a client proxy serves
	// (node metadata causeway.namespace); only for RoleClient.
	Namespace string
	// DNSPort is the UDP port a client proxy answers DNS on (node metadata
	// causeway.dns_port; 0: model.DefaultDNSPort); only for RoleClient.
	DNSPort uint32
	// XDSAddress is host:port of the xDS server (DefaultXDSAddress if empty).
	XDSAddress string
	// XDSAddresses are several xDS servers (replicas of causeway serve, all
	// with the same serving certificate names), instead of XDSAddress: one
	// xds cluster with an endpoint each, so a replica's loss moves the
	// proxy to another at its next reconnect.
	XDSAddresses []string
	// AdminAddress is ip:port of Envoy's admin listener (DefaultAdminAddress if empty).
	AdminAddress string
	// NodeID defaults to "<role>~<cluster>~<bind address or hostname>", and
	// for a gateway proxy "gateway~<cluster>~<gateway>~<bind address or hostname>".
	NodeID string
	// Security protects the xDS connection; its zero value is refused
	// (see Security).
	Security Security
	// Protocol is the ADS variant the proxy speaks; empty means delta.
	Protocol Protocol
}

// Protocol is an ADS variant. Causeway serves both; delta is the default
// because an endpoint change then costs the changed resources only, on
// the wire and in the proxy.
type Protocol string

const (
	ProtocolDelta Protocol = "delta"
	ProtocolSotW  Protocol = "sotw" // state of the world
)

// Protocols are the values Options.Protocol accepts, default first.
var Protocols = []Protocol{ProtocolDelta, ProtocolSotW}

// apiType is p's ADS flavour in Envoy's terms.
func (p Protocol) apiType() (corev3.ApiConfigSource_ApiType, error) {
	switch p {
	case "", ProtocolDelta:
		return corev3.ApiConfigSource_DELTA_GRPC, nil
	case ProtocolSotW:
		return corev3.ApiConfigSource_GRPC, nil
	}
	return 0, fmt.Errorf("bootstrap: xds protocol %q: want %q or %q", string(p), ProtocolDelta, ProtocolSotW)
}

// Build returns the bootstrap as YAML. It validates the options and the
// resulting proto, so a bootstrap it returns is one Envoy should accept.
func Build(o Options) ([]byte, error) {
	b, err := Proto(o)
	if err != nil {
		return nil, err
	}
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return yaml.JSONToYAML(js)
}

// Proto returns the bootstrap as a validated proto.
func Proto(o Options) (*bootstrapv3.Bootstrap, error) {
	p := model.Proxy{Role: o.Role, Cluster: o.Cluster, Locality: o.Locality, BindAddress: o.BindAddress, Gateway: o.Gateway,
		Namespace: o.Namespace, DNSPort: o.DNSPort}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if o.BindAddress != "" {
		if _, err := netip.ParseAddr(o.BindAddress); err != nil {
			return nil, fmt.Errorf("bootstrap: bind address %q is not an IP address", o.BindAddress)
		}
	}
	xdsAddrs, err := xdsAddresses(o)
	if err != nil {
		return nil, err
	}
	adminHost, adminPort, err := splitHostPort("admin address", orDefault(o.AdminAddress, DefaultAdminAddress))
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(adminHost); err != nil {
		return nil, fmt.Errorf("bootstrap: admin address host %q is not an IP address", adminHost)
	}
	nodeID := o.NodeID
	if nodeID == "" {
		nodeID, err = defaultNodeID(p)
		if err != nil {
			return nil, err
		}
	}
	if err := o.Security.check(); err != nil {
		return nil, err
	}
	apiType, err := o.Protocol.apiType()
	if err != nil {
		return nil, err
	}
	adsService, staticClusters, err := adsGrpcService(o.Security, xdsAddrs)
	if err != nil {
		return nil, err
	}
	b := &bootstrapv3.Bootstrap{
		Node: node(nodeID, p),
		Admin: &bootstrapv3.Admin{
			Address: socketAddress(adminHost, adminPort),
		},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Clusters: staticClusters,
		},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:                   apiType,
				TransportApiVersion:       corev3.ApiVersion_V3,
				GrpcServices:              []*corev3.GrpcService{adsService},
				SetNodeOnFirstMessageOnly: true,
			},
			LdsConfig: adsSource(),
			CdsConfig: adsSource(),
		},
	}
	if err := b.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: invalid: %w", err)
	}
	return b, nil
}

// adsGrpcService is the ADS server as Envoy reaches it, and the static
// clusters that takes: Envoy's gRPC client over the xds cluster, or with a
// token file Google gRPC, which needs no cluster (tokenfile.go).
func adsGrpcService(s Security, addrs []hostPort) (*corev3.GrpcService, []*clusterv3.Cluster, error) {
	if s.TokenFile != "" {
		svc, err := s.tokenGrpcService(addrs)
		return svc, nil, err
	}
	cluster, err := xdsCluster(addrs)
	if err != nil {
		return nil, nil, err
	}
	if cluster.TransportSocket, err = s.transportSocket(); err != nil {
		return nil, nil, err
	}
	return &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
		EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: XDSClusterName, RetryPolicy: xdsRetryPolicy()},
	}}, []*clusterv3.Cluster{cluster}, nil
}

// Reconnect backoff of the ADS stream. Envoy's default (0.5 s doubling to
// 30 s, jittered) left proxies 6-21 s without xDS after a 10 s outage;
// capped at 1 s a proxy is back within about a second of serve returning,
// and a replica's loss costs at most a few attempts. Attempts to a dead
// server are cheap: a refused connection or the 1 s connect timeout.
const (
	xdsRetryBase = 250 * time.Millisecond
	xdsRetryMax  = time.Second
)

func xdsRetryPolicy() *corev3.RetryPolicy {
	return &corev3.RetryPolicy{RetryBackOff: &corev3.BackoffStrategy{
		BaseInterval: durationpb.New(xdsRetryBase),
		MaxInterval:  durationpb.New(xdsRetryMax),
	}}
}

// hostPort is one xDS server address.
type hostPort struct {
	host string
	port uint32
}

// xdsAddresses are o's xDS servers: XDSAddresses, else XDSAddress, else
// the default.
func xdsAddresses(o Options) ([]hostPort, error) {
	addrs := o.XDSAddresses
	switch {
	case len(addrs) > 0 && o.XDSAddress != "":
		return nil, fmt.Errorf("bootstrap: xds address %q and xds addresses %q: give one or the other", o.XDSAddress, addrs)
	case len(addrs) == 0:
		addrs = []string{orDefault(o.XDSAddress, DefaultXDSAddress)}
	}
	seen := map[hostPort]bool{}
	var out []hostPort
	for _, a := range addrs {
		host, port, err := splitHostPort("xds address", a)
		if err != nil {
			return nil, err
		}
		hp := hostPort{host, port}
		if seen[hp] {
			return nil, fmt.Errorf("bootstrap: xds address %q given twice", a)
		}
		seen[hp] = true
		out = append(out, hp)
	}
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func splitHostPort(what, addr string) (string, uint32, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("bootstrap: %s %q: %w", what, addr, err)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 || host == "" {
		return "", 0, fmt.Errorf("bootstrap: %s %q: want host:port with port 1-65535", what, addr)
	}
	return host, uint32(n), nil
}

func defaultNodeID(p model.Proxy) (string, error) {
	where := p.BindAddress
	if where == "" {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("bootstrap: no node id given and no hostname: %w", err)
		}
		where = h
	}
	if p.Gateway != "" {
		return fmt.Sprintf("%s~%s~%s~%s", p.Role, p.Cluster, p.Gateway, where), nil
	}
	return fmt.Sprintf("%s~%s~%s", p.Role, p.Cluster, where), nil
}

// node carries the identity model.ProxyFromNode reads back.
func node(id string, p model.Proxy) *corev3.Node {
	md := map[string]*structpb.Value{
		model.NodeMetaRole:    structpb.NewStringValue(string(p.Role)),
		model.NodeMetaCluster: structpb.NewStringValue(p.Cluster),
	}
	if p.BindAddress != "" {
		md[model.NodeMetaBindAddress] = structpb.NewStringValue(p.BindAddress)
	}
	if p.Gateway != "" {
		md[model.NodeMetaGateway] = structpb.NewStringValue(p.Gateway)
	}
	if p.Namespace != "" {
		md[model.NodeMetaNamespace] = structpb.NewStringValue(p.Namespace)
	}
	if p.DNSPort != 0 {
		md[model.NodeMetaDNSPort] = structpb.NewNumberValue(float64(p.DNSPort))
	}
	n := &corev3.Node{
		Id:       id,
		Cluster:  "causeway-" + string(p.Role),
		Metadata: &structpb.Struct{Fields: md},
	}
	if p.Locality != (model.Locality{}) {
		n.Locality = &corev3.Locality{Region: p.Locality.Region, Zone: p.Locality.Zone, SubZone: p.Locality.Subzone}
	}
	return n
}

// xdsCluster reaches the xDS servers over HTTP/2 (gRPC), round robin: each
// new ADS stream (a reconnect) goes to the next one, so a dead replica is
// skipped at the next attempt. IP addresses need no resolution (STATIC); a
// hostname is resolved and re-resolved (STRICT_DNS, which takes IP
// addresses too).
func xdsCluster(addrs []hostPort) (*clusterv3.Cluster, error) {
	discovery := clusterv3.Cluster_STATIC
	var lbEndpoints []*endpointv3.LbEndpoint
	for _, a := range addrs {
		if _, err := netip.ParseAddr(a.host); err != nil {
			discovery = clusterv3.Cluster_STRICT_DNS
		}
		lbEndpoints = append(lbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
				Endpoint: &endpointv3.Endpoint{Address: socketAddress(a.host, a.port)},
			},
		})
	}
	h2 := &httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
				},
			},
		},
	}
	// ValidateAll on the bootstrap does not look inside Any payloads.
	if err := h2.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	opts, err := anypb.New(h2)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	return &clusterv3.Cluster{
		Name:                 XDSClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: discovery},
		ConnectTimeout:       durationpb.New(time.Second),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			httpProtocolOptionsKey: opts,
		},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: XDSClusterName,
			Endpoints:   []*endpointv3.LocalityLbEndpoints{{LbEndpoints: lbEndpoints}},
		},
	}, nil
}

func socketAddress(host string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       host,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
}
