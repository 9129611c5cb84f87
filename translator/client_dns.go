package translator

import (
	"slices"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	dnsv3 "github.com/envoyproxy/go-control-plane/envoy/data/dns/v3"
	dnsfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/dns_filter/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/causeway-dev/causeway/model"
)

// dnsFilterName is the DNS filter's extension name.
const dnsFilterName = "envoy.filters.udp_listener.dns_filter"

// dnsAnswerTTL is how long clients may cache an answer. The address never
// changes while the proxy serves the name; a short TTL only bounds how
// long a name that stops being served keeps resolving to the proxy.
const dnsAnswerTTL = 30 * time.Second

// clientDNSListener is the client proxy's DNS server: UDP on its bind
// address and DNS port, answering each hostname it serves with its bind
// address (an A record, or AAAA for an IPv6 address). The table is
// inline and the filter has no client_config, so it never forwards: a name
// not in the table gets no address (Envoy answers NXDOMAIN), and the
// cluster DNS that forwarded it there falls back to its other servers only
// for suffixes it does not forward to the proxy. Names match as written
// (case_insensitive is newer than Envoy 1.37, the oldest supported);
// VirtualDestination hosts and federated names are lower-case DNS names.
func clientDNSListener(p model.Proxy, dests []clientDestination) *listenerv3.Listener {
	var hosts []string
	for _, d := range dests {
		hosts = append(hosts, d.key.Host)
	}
	slices.Sort(hosts)
	table := &dnsv3.DnsTable{}
	for _, h := range slices.Compact(hosts) {
		table.VirtualDomains = append(table.VirtualDomains, &dnsv3.DnsTable_DnsVirtualDomain{
			Name: h,
			Endpoint: &dnsv3.DnsTable_DnsEndpoint{EndpointConfig: &dnsv3.DnsTable_DnsEndpoint_AddressList{
				AddressList: &dnsv3.DnsTable_AddressList{Address: []string{p.BindAddress}},
			}},
			AnswerTtl: durationpb.New(dnsAnswerTTL),
		})
	}
	filter := &dnsfilterv3.DnsFilterConfig{
		StatPrefix: ClientDNSListenerName,
		ServerConfig: &dnsfilterv3.DnsFilterConfig_ServerContextConfig{
			ConfigSource: &dnsfilterv3.DnsFilterConfig_ServerContextConfig_InlineDnsTable{InlineDnsTable: table},
		},
	}
	return &listenerv3.Listener{
		Name: ClientDNSListenerName,
		Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
			Protocol:      corev3.SocketAddress_UDP,
			Address:       p.BindAddress,
			PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: p.DNSPortOrDefault()},
		}}},
		ListenerFilters: []*listenerv3.ListenerFilter{{
			Name:       dnsFilterName,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: gatewayAny(filter)},
		}},
	}
}
