package bootstrap

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	grpccredv3 "github.com/envoyproxy/go-control-plane/envoy/config/grpc_credential/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// A proxy with a token file speaks ADS through Envoy's Google gRPC client,
// because only its call credentials can read a file per call: the
// file_based_metadata plugin reads TokenFile each time a stream opens
// (gRPC asks the plugin for metadata on every call), so a token the kubelet
// rotated behind the file is what the next (re)connect presents. The Envoy
// gRPC client's initial_metadata is a fixed string, read once at start.
//
// What changes with it (a proxy without a token keeps the Envoy gRPC client
// and the static xds cluster):
//   - TLS is gRPC's (channel_credentials ssl_credentials, the same CA and
//     client certificate files), not Envoy's transport socket. gRPC checks
//     the chain to CAFile and the server name ServerName (SNI and the DNS/IP
//     SANs, grpc.ssl_target_name_override) but cannot match a URI SAN, so the
//     server's SPIFFE ID is not checked. Under Causeway's CA that loses
//     nothing: only serving certificates (ca.IssueServing) carry DNS or IP
//     SANs; proxy leaves carry a URI SAN alone, so a proxy's certificate
//     cannot pass as the server's.
//   - The servers are a gRPC target URI instead of a cluster (see grpcTarget),
//     balanced round robin by gRPC.
//   - Envoy applies EnvoyGrpc's retry_policy only to the Envoy gRPC client:
//     the ADS stream backs off with Envoy's default (0.5 s doubling to 30 s),
//     and the channel's own reconnect backoff is capped at xdsRetryMax by
//     channel args.
const (
	fileBasedMetadata = "envoy.grpc_credentials.file_based_metadata"
	// googleGrpcStatPrefix names the client's stats (cluster.<prefix>...).
	googleGrpcStatPrefix = XDSClusterName
)

// tokenGrpcService is the ADS gRPC service of a proxy with a TokenFile.
func (s Security) tokenGrpcService(addrs []hostPort) (*corev3.GrpcService, error) {
	target, err := grpcTarget(addrs)
	if err != nil {
		return nil, err
	}
	plugin := &grpccredv3.FileBasedMetadataConfig{
		SecretData:   fileSource(s.TokenFile),
		HeaderKey:    "authorization",
		HeaderPrefix: "Bearer ",
	}
	// ValidateAll on the bootstrap does not look inside Any payloads.
	if err := plugin.ValidateAll(); err != nil {
		return nil, fmt.Errorf("bootstrap: xDS token file: %w", err)
	}
	pluginAny, err := anypb.New(plugin)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	ssl := &corev3.GrpcService_GoogleGrpc_SslCredentials{RootCerts: fileSource(s.CAFile)}
	if s.CertFile != "" {
		ssl.CertChain, ssl.PrivateKey = fileSource(s.CertFile), fileSource(s.KeyFile)
	}
	return &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_GoogleGrpc_{GoogleGrpc: &corev3.GrpcService_GoogleGrpc{
		TargetUri:  target,
		StatPrefix: googleGrpcStatPrefix,
		// The plugin is a credentials factory: without its name Envoy's
		// default factory ignores from_plugin credentials.
		CredentialsFactoryName: fileBasedMetadata,
		ChannelCredentials: &corev3.GrpcService_GoogleGrpc_ChannelCredentials{
			CredentialSpecifier: &corev3.GrpcService_GoogleGrpc_ChannelCredentials_SslCredentials{SslCredentials: ssl},
		},
		CallCredentials: []*corev3.GrpcService_GoogleGrpc_CallCredentials{{
			CredentialSpecifier: &corev3.GrpcService_GoogleGrpc_CallCredentials_FromPlugin{
				FromPlugin: &corev3.GrpcService_GoogleGrpc_CallCredentials_MetadataCredentialsFromPlugin{
					Name:       fileBasedMetadata,
					ConfigType: &corev3.GrpcService_GoogleGrpc_CallCredentials_MetadataCredentialsFromPlugin_TypedConfig{TypedConfig: pluginAny},
				},
			},
		}},
		ChannelArgs: &corev3.GrpcService_GoogleGrpc_ChannelArgs{Args: map[string]*corev3.GrpcService_GoogleGrpc_ChannelArgs_Value{
			// The name the server's certificate must carry (and the SNI).
			"grpc.ssl_target_name_override": stringArg(orDefault(s.ServerName, DefaultXDSServerName)),
			// Every replica connected, each new stream on the next one:
			// a replica's loss moves the proxy at its next reconnect.
			"grpc.lb_policy_name": stringArg("round_robin"),
			// gRPC's own reconnect backoff (1 s growing to 120 s) would
			// otherwise keep a proxy away long after serve is back.
			"grpc.initial_reconnect_backoff_ms": intArg(xdsRetryBase.Milliseconds()),
			"grpc.max_reconnect_backoff_ms":     intArg(xdsRetryMax.Milliseconds()),
		}},
	}}}, nil
}

// grpcTarget is the gRPC target URI of the xDS servers: "dns:///host:port"
// for one name (re-resolved by gRPC), "ipv4:a:p,b:p" or "ipv6:[a]:p,..."
// for IP addresses. gRPC has no URI for several names or mixed families.
func grpcTarget(addrs []hostPort) (string, error) {
	var v4, v6 []string
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a.host)
		switch {
		case err != nil && len(addrs) == 1:
			return "dns:///" + joinHostPort(a), nil
		case err != nil:
			return "", fmt.Errorf("bootstrap: xds address %q: with a token file (--xds-token-file) several xDS servers must be IP addresses (gRPC lists them in one target); give one DNS name that resolves to all of them instead", joinHostPort(a))
		case ip.Is4():
			v4 = append(v4, joinHostPort(a))
		default:
			v6 = append(v6, joinHostPort(a))
		}
	}
	switch {
	case len(v4) > 0 && len(v6) > 0:
		return "", fmt.Errorf("bootstrap: xds addresses %s and %s: with a token file (--xds-token-file) they must all be IPv4 or all IPv6", v4[0], v6[0])
	case len(v6) > 0:
		return "ipv6:" + strings.Join(v6, ","), nil
	}
	return "ipv4:" + strings.Join(v4, ","), nil
}

func joinHostPort(a hostPort) string {
	return net.JoinHostPort(a.host, strconv.Itoa(int(a.port)))
}

func stringArg(v string) *corev3.GrpcService_GoogleGrpc_ChannelArgs_Value {
	return &corev3.GrpcService_GoogleGrpc_ChannelArgs_Value{ValueSpecifier: &corev3.GrpcService_GoogleGrpc_ChannelArgs_Value_StringValue{StringValue: v}}
}

func intArg(v int64) *corev3.GrpcService_GoogleGrpc_ChannelArgs_Value {
	return &corev3.GrpcService_GoogleGrpc_ChannelArgs_Value{ValueSpecifier: &corev3.GrpcService_GoogleGrpc_ChannelArgs_Value_IntValue{IntValue: v}}
}
