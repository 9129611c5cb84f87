package translator

import (
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/causeway-dev/causeway/model"
)

// connectTimeout bounds how long a proxy waits for an upstream TCP (and TLS)
// handshake before trying another host.
const connectTimeout = 5 * time.Second

// httpProtocolOptionsKey is the typed_extension_protocol_options key Envoy
// reads upstream HTTP protocol options from.
const httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// edsCluster is an EDS cluster fed over ADS, with locality weights honoured
// (without locality_weighted_lb_config Envoy ignores them) and, when the
// proxy has a bind address, upstream connections originating from it.
//
// Its sub-messages that are the same for every EDS cluster are shared by
// all of them (see edsShared): set a field of the cluster itself to change
// one, never a field inside them.
func edsCluster(name string, p model.Proxy) *clusterv3.Cluster {
	c := &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: edsShared.discoveryType,
		EdsClusterConfig:     edsShared.edsConfig,
		ConnectTimeout:       edsShared.connectTimeout,
		CommonLbConfig:       edsShared.commonLb,
		CircuitBreakers:      edsShared.circuitBreakers,
	}
	if p.BindAddress != "" {
		c.UpstreamBindConfig = &corev3.BindConfig{SourceAddress: socketAddress(p.BindAddress, 0)}
	}
	return c
}

// edsShared holds the immutable sub-messages every EDS cluster has alike.
// Building them for each of 100k Service clusters was a tenth of a large
// gateway translation; the output is marshalled (concurrently is fine:
// protobuf only reads them and caches sizes atomically), never changed in
// place.
var edsShared = struct {
	discoveryType   *clusterv3.Cluster_Type
	edsConfig       *clusterv3.Cluster_EdsClusterConfig
	connectTimeout  *durationpb.Duration
	commonLb        *clusterv3.Cluster_CommonLbConfig
	circuitBreakers *clusterv3.CircuitBreakers
}{
	discoveryType:   &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
	edsConfig:       &clusterv3.Cluster_EdsClusterConfig{EdsConfig: viaADS()},
	connectTimeout:  durationpb.New(connectTimeout),
	commonLb:        localityWeightedLbConfig(),
	circuitBreakers: retryCircuitBreakers(),
}

// localityWeightedLbConfig is an EDS cluster's common LB config: locality
// weights honoured.
func localityWeightedLbConfig() *clusterv3.Cluster_CommonLbConfig {
	return &clusterv3.Cluster_CommonLbConfig{
		LocalityConfigSpecifier: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig_{
			LocalityWeightedLbConfig: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig{},
		},
	}
}

// useHTTP2 makes the cluster speak HTTP/2 upstream, which gRPC backends need.
func useHTTP2(c *clusterv3.Cluster) {
	opts := &httpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
				},
			},
		},
	}
	c.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptionsKey: typedAny(opts)}
}

// isHTTP2Protocol reports whether a VirtualDestination port protocol needs
// HTTP/2 to the backend.
func isHTTP2Protocol(protocol string) bool {
	switch strings.ToUpper(protocol) {
	case "HTTP2", "GRPC", "H2C":
		return true
	}
	return false
}

// viaADS is the config source for every dynamic resource: the ADS stream the
// proxy already has.
func viaADS() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
}

func socketAddress(addr string, port uint32) *corev3.SocketAddress {
	return &corev3.SocketAddress{
		Protocol:      corev3.SocketAddress_TCP,
		Address:       addr,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}
}

func tcpAddress(addr string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: socketAddress(addr, port)}}
}

// typedAny packs m. Marshalling a well-formed generated message cannot fail,
// so a failure is a programming error.
func typedAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic("translator: packing " + string(m.ProtoReflect().Descriptor().FullName()) + ": " + err.Error())
	}
	return a
}
