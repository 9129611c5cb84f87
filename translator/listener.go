package translator

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// GatewayListenerName is the name of a gateway proxy's listener on port, and
// also of the route configuration it fetches over RDS.
func GatewayListenerName(port uint32) string { return fmt.Sprintf("gateway_%d", port) }

// gatewayVirtualHostName names the virtual host for hostname inside the
// route configuration routeConfig ("gateway_8080~bookinfo.example.com").
func gatewayVirtualHostName(routeConfig, hostname string) string {
	return routeConfig + "~" + hostname
}

const defaultBindAddress = "0.0.0.0"

// gatewayListener is an HTTP listener on bind:port whose routes come from
// the route configuration of the same name over ADS.
func gatewayListener(bind string, port uint32) *listenerv3.Listener {
	if bind == "" {
		bind = defaultBindAddress
	}
	name := GatewayListenerName(port)
	return &listenerv3.Listener{
		Name: name,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Protocol:      corev3.SocketAddress_TCP,
			Address:       bind,
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
		}}},
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{{
				Name:       wellknown.HTTPConnectionManager,
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: gatewayAny(gatewayHCM(name))},
			}},
		}},
	}
}

// gatewayHCM is the HTTP connection manager of a gateway listener. Paths are
// normalised before routing so that prefix matches cannot be sidestepped with
// "/a/../b" or "//".
func gatewayHCM(name string) *hcmv3.HttpConnectionManager {
	return &hcmv3.HttpConnectionManager{
		StatPrefix: name,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: &corev3.ConfigSource{
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
				ResourceApiVersion:    corev3.ApiVersion_V3,
			},
			RouteConfigName: name,
		}},
		// CORS runs only where a route configures it (filters_cors.go).
		HttpFilters: []*hcmv3.HttpFilter{corsHTTPFilter(), {
			Name:       wellknown.Router,
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: gatewayAny(&routerv3.Router{})},
		}},
		UpgradeConfigs: gatewayUpgrades(),
		NormalizePath:  wrapperspb.Bool(true),
		MergeSlashes:   true,
	}
}

// gatewayRouteConfig holds the virtual hosts of one gateway port. The port in
// the Host header is ignored when picking a virtual host (the Gateway API
// requires that) but still forwarded unchanged, so domains are bare hostnames.
func gatewayRouteConfig(port uint32, vhosts []*routev3.VirtualHost) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{
		Name:                     GatewayListenerName(port),
		VirtualHosts:             vhosts,
		IgnorePortInHostMatching: true,
	}
}

// gatewayAny packs m. Marshalling a well-formed generated message cannot
// fail, so an error is a programming bug.
func gatewayAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(fmt.Sprintf("translator: packing %T: %v", m, err))
	}
	return a
}
