package envoycompat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"sigs.k8s.io/yaml"

	// The translator registers every extension type its resources name, so
	// the golden files' typed_config fields can be read.
	_ "github.com/causeway-dev/causeway/translator"
)

// xdsClusterName is the static cluster the bootstrap's ADS config points
// at; validate mode never connects to it.
const xdsClusterName = "causeway-validate-xds"

// staticEndpointsPrefix names the STATIC copy of a cluster that carries a
// golden ClusterLoadAssignment.
const staticEndpointsPrefix = "causeway-validate-endpoints|"

// GoldenBootstrap reads the golden resource files of one case directory
// (listeners.yaml, routes.yaml, clusters.yaml, endpoints.yaml,
// secrets.yaml) into a bootstrap as described in the package doc.
func GoldenBootstrap(dir string) (*bootstrapv3.Bootstrap, error) {
	listeners, err := readList(filepath.Join(dir, "listeners.yaml"), func() *listenerv3.Listener { return &listenerv3.Listener{} })
	if err != nil {
		return nil, err
	}
	routes, err := readList(filepath.Join(dir, "routes.yaml"), func() *routev3.RouteConfiguration { return &routev3.RouteConfiguration{} })
	if err != nil {
		return nil, err
	}
	clusters, err := readList(filepath.Join(dir, "clusters.yaml"), func() *clusterv3.Cluster { return &clusterv3.Cluster{} })
	if err != nil {
		return nil, err
	}
	assignments, err := readList(filepath.Join(dir, "endpoints.yaml"), func() *endpointv3.ClusterLoadAssignment { return &endpointv3.ClusterLoadAssignment{} })
	if err != nil {
		return nil, err
	}
	secrets, err := readList(filepath.Join(dir, "secrets.yaml"), func() *tlsv3.Secret { return &tlsv3.Secret{} })
	if err != nil {
		return nil, err
	}

	routeByName := map[string]*routev3.RouteConfiguration{}
	for _, r := range routes {
		routeByName[r.GetName()] = r
	}
	used := map[string]bool{}
	for _, l := range listeners {
		if err := inlineRoutes(l, routeByName, used); err != nil {
			return nil, fmt.Errorf("%s: listener %q: %w", dir, l.GetName(), err)
		}
	}
	for _, r := range routes {
		if !used[r.GetName()] {
			return nil, fmt.Errorf("%s: RouteConfiguration %q is named by no listener's RDS config", dir, r.GetName())
		}
	}

	staticClusters, err := endpointClusters(clusters, assignments)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	all := append(append(clusters, staticClusters...), xdsCluster())

	return &bootstrapv3.Bootstrap{
		Node: &corev3.Node{Id: "causeway-validate", Cluster: "causeway-validate"},
		StaticResources: &bootstrapv3.Bootstrap_StaticResources{
			Listeners: listeners,
			Clusters:  all,
			Secrets:   secrets,
		},
		DynamicResources: &bootstrapv3.Bootstrap_DynamicResources{
			AdsConfig: &corev3.ApiConfigSource{
				ApiType:             corev3.ApiConfigSource_GRPC,
				TransportApiVersion: corev3.ApiVersion_V3,
				GrpcServices: []*corev3.GrpcService{{
					TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
						EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: xdsClusterName},
					},
				}},
			},
		},
	}, nil
}

// inlineRoutes replaces every RDS reference of l's HTTP connection
// managers with the RouteConfiguration it names, recording the names used.
func inlineRoutes(l *listenerv3.Listener, routes map[string]*routev3.RouteConfiguration, used map[string]bool) error {
	chains := l.GetFilterChains()
	if dc := l.GetDefaultFilterChain(); dc != nil {
		chains = append(chains, dc)
	}
	for _, fc := range chains {
		for _, f := range fc.GetFilters() {
			tc := f.GetTypedConfig()
			if tc == nil || !tc.MessageIs(&hcmv3.HttpConnectionManager{}) {
				continue
			}
			hcm := &hcmv3.HttpConnectionManager{}
			if err := tc.UnmarshalTo(hcm); err != nil {
				return fmt.Errorf("filter %q: %w", f.GetName(), err)
			}
			rds := hcm.GetRds()
			if rds == nil {
				continue
			}
			rc, ok := routes[rds.GetRouteConfigName()]
			if !ok {
				return fmt.Errorf("filter %q: RDS names RouteConfiguration %q, which routes.yaml lacks", f.GetName(), rds.GetRouteConfigName())
			}
			used[rc.GetName()] = true
			inline := proto.Clone(rc).(*routev3.RouteConfiguration)
			// Envoy checks an inline route's clusters by default but not an
			// RDS one's; keep what RDS delivery would check.
			if inline.ValidateClusters == nil {
				inline.ValidateClusters = wrapperspb.Bool(false)
			}
			hcm.RouteSpecifier = &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: inline}
			a, err := anypb.New(hcm)
			if err != nil {
				return err
			}
			f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
		}
	}
	return nil
}

// endpointClusters returns, for each load assignment, a STATIC copy of the
// EDS cluster it feeds (so the endpoints are checked with that cluster's
// load balancing settings), named with staticEndpointsPrefix and without
// transport sockets.
func endpointClusters(clusters []*clusterv3.Cluster, assignments []*endpointv3.ClusterLoadAssignment) ([]*clusterv3.Cluster, error) {
	byService := map[string]*clusterv3.Cluster{}
	for _, c := range clusters {
		if c.GetType() != clusterv3.Cluster_EDS {
			continue
		}
		name := c.GetEdsClusterConfig().GetServiceName()
		if name == "" {
			name = c.GetName()
		}
		byService[name] = c
	}
	var out []*clusterv3.Cluster
	for _, cla := range assignments {
		eds, ok := byService[cla.GetClusterName()]
		if !ok {
			return nil, fmt.Errorf("ClusterLoadAssignment %q feeds no EDS cluster in clusters.yaml", cla.GetClusterName())
		}
		c := proto.Clone(eds).(*clusterv3.Cluster)
		c.Name = staticEndpointsPrefix + eds.GetName()
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		c.EdsClusterConfig = nil
		// Validate mode crashes (SIGSEGV, Envoy 1.37 and 1.40) building
		// hosts whose transport socket takes its secrets over ADS; the EDS
		// original above still has its transport sockets checked.
		c.TransportSocket = nil
		c.TransportSocketMatches = nil
		c.LoadAssignment = proto.Clone(cla).(*endpointv3.ClusterLoadAssignment)
		c.LoadAssignment.ClusterName = c.Name
		out = append(out, c)
	}
	return out, nil
}

// xdsCluster is the HTTP/2 cluster the ADS config names.
func xdsCluster() *clusterv3.Cluster {
	opts, err := anypb.New(&upstreamhttpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{
					Http2ProtocolOptions: &corev3.Http2ProtocolOptions{},
				},
			},
		},
	})
	if err != nil {
		panic(err) // a fixed, valid message
	}
	return &clusterv3.Cluster{
		Name:                 xdsClusterName,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{
			"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": opts,
		},
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: xdsClusterName,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
						Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
							Address:       "127.0.0.1",
							PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 1},
						}}},
					}},
				}},
			}},
		},
	}
}

// readList reads a golden file: a YAML list of protojson messages.
func readList[M proto.Message](path string, newMsg func() M) ([]M, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(js, &raws); err != nil {
		return nil, fmt.Errorf("%s: want a YAML list: %w", path, err)
	}
	out := make([]M, 0, len(raws))
	for i, raw := range raws {
		m := newMsg()
		if err := protojson.Unmarshal(raw, m); err != nil {
			return nil, fmt.Errorf("%s: item %d: %w", path, i, err)
		}
		out = append(out, m)
	}
	return out, nil
}
