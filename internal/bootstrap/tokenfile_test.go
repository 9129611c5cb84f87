package bootstrap

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	grpccredv3 "github.com/envoyproxy/go-control-plane/envoy/config/grpc_credential/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
)

// wantTokenService is the ADS service of a proxy with token file token,
// verifying the server by caFile and serverName, at target.
func wantTokenService(t *testing.T, target, caFile, serverName, token string, ssl *corev3.GrpcService_GoogleGrpc_SslCredentials) *corev3.GrpcService {
	t.Helper()
	plugin, err := anypb.New(&grpccredv3.FileBasedMetadataConfig{
		SecretData:   &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: token}},
		HeaderKey:    "authorization",
		HeaderPrefix: "Bearer ",
	})
	if err != nil {
		t.Fatal(err)
	}
	if ssl == nil {
		ssl = &corev3.GrpcService_GoogleGrpc_SslCredentials{}
	}
	ssl.RootCerts = &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: caFile}}
	str := func(v string) *corev3.GrpcService_GoogleGrpc_ChannelArgs_Value {
		return &corev3.GrpcService_GoogleGrpc_ChannelArgs_Value{ValueSpecifier: &corev3.GrpcService_GoogleGrpc_ChannelArgs_Value_StringValue{StringValue: v}}
	}
	num := func(v int64) *corev3.GrpcService_GoogleGrpc_ChannelArgs_Value {
		return &corev3.GrpcService_GoogleGrpc_ChannelArgs_Value{ValueSpecifier: &corev3.GrpcService_GoogleGrpc_ChannelArgs_Value_IntValue{IntValue: v}}
	}
	return &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_GoogleGrpc_{GoogleGrpc: &corev3.GrpcService_GoogleGrpc{
		TargetUri:              target,
		StatPrefix:             "causeway_xds",
		CredentialsFactoryName: "envoy.grpc_credentials.file_based_metadata",
		ChannelCredentials: &corev3.GrpcService_GoogleGrpc_ChannelCredentials{
			CredentialSpecifier: &corev3.GrpcService_GoogleGrpc_ChannelCredentials_SslCredentials{SslCredentials: ssl},
		},
		CallCredentials: []*corev3.GrpcService_GoogleGrpc_CallCredentials{{
			CredentialSpecifier: &corev3.GrpcService_GoogleGrpc_CallCredentials_FromPlugin{
				FromPlugin: &corev3.GrpcService_GoogleGrpc_CallCredentials_MetadataCredentialsFromPlugin{
					Name:       "envoy.grpc_credentials.file_based_metadata",
					ConfigType: &corev3.GrpcService_GoogleGrpc_CallCredentials_MetadataCredentialsFromPlugin_TypedConfig{TypedConfig: plugin},
				},
			},
		}},
		ChannelArgs: &corev3.GrpcService_GoogleGrpc_ChannelArgs{Args: map[string]*corev3.GrpcService_GoogleGrpc_ChannelArgs_Value{
			"grpc.ssl_target_name_override":     str(serverName),
			"grpc.lb_policy_name":               str("round_robin"),
			"grpc.initial_reconnect_backoff_ms": num(250),
			"grpc.max_reconnect_backoff_ms":     num(1000),
		}},
	}}}
}

// TestSecurityTokenFile: the bootstrap names the token file for Envoy's
// file_based_metadata call credentials (read per stream) and holds no
// token; TLS moves to the Google gRPC channel, and no xds cluster is left.
func TestSecurityTokenFile(t *testing.T) {
	const token = "/var/run/secrets/causeway/token"
	for _, tc := range []struct {
		name string
		s    Security
		want *corev3.GrpcService
	}{
		{"token only, defaults", Security{CAFile: "/etc/xds/ca.pem", TokenFile: token},
			wantTokenService(t, "ipv4:127.0.0.1:18000", "/etc/xds/ca.pem", "localhost", token, nil)},
		{"token and client certificate", Security{CAFile: "ca.pem", CertFile: "cert.pem", KeyFile: "key.pem", TokenFile: token, ServerName: "causeway.causeway-system.svc"},
			wantTokenService(t, "ipv4:127.0.0.1:18000", "ca.pem", "causeway.causeway-system.svc", token, &corev3.GrpcService_GoogleGrpc_SslCredentials{
				CertChain:  &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: "cert.pem"}},
				PrivateKey: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: "key.pem"}},
			})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := Build(withSecurity(tc.s))
			if err != nil {
				t.Fatal(err)
			}
			b := parse(t, y) // ValidateAll
			ads := b.GetDynamicResources().GetAdsConfig()
			if diff := cmp.Diff([]*corev3.GrpcService{tc.want}, ads.GetGrpcServices(), protocmp.Transform()); diff != "" {
				t.Errorf("ADS gRPC service (-want +got):\n%s", diff)
			}
			if ads.GetApiType() != corev3.ApiConfigSource_DELTA_GRPC || !ads.GetSetNodeOnFirstMessageOnly() {
				t.Errorf("ads_config %v: want delta, node on first message only", ads)
			}
			if cl := b.GetStaticResources().GetClusters(); len(cl) != 0 {
				t.Errorf("static clusters %v: Google gRPC needs none", cl)
			}
			// What Envoy must not do with the token is get it inlined.
			if strings.Contains(string(y), "Bearer ey") || strings.Contains(string(y), "initial_metadata") {
				t.Errorf("bootstrap carries a token:\n%s", y)
			}
		})
	}
}

// TestTokenFileTargets: the xDS servers become one gRPC target URI.
func TestTokenFileTargets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		addrs []string
		want  string
	}{
		{"one IPv4", []string{"127.0.68.1:18000"}, "ipv4:127.0.68.1:18000"},
		{"several IPv4", []string{"127.0.68.1:18000", "127.0.68.2:18001"}, "ipv4:127.0.68.1:18000,127.0.68.2:18001"},
		{"IPv6", []string{"[::1]:18000", "[fd00::2]:18000"}, "ipv6:[::1]:18000,[fd00::2]:18000"},
		{"one name", []string{"causeway.causeway-system.svc:18000"}, "dns:///causeway.causeway-system.svc:18000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := withSecurity(Security{CAFile: "ca.pem", TokenFile: "/t"})
			o.XDSAddress, o.XDSAddresses = "", tc.addrs
			y, err := Build(o)
			if err != nil {
				t.Fatal(err)
			}
			if got := parse(t, y).GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetGoogleGrpc().GetTargetUri(); got != tc.want {
				t.Errorf("target %q, want %q", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name  string
		addrs []string
		want  string
	}{
		{"several with a name", []string{"127.0.68.1:18000", "causeway-1.example:18000"}, `xds address "causeway-1.example:18000": with a token file (--xds-token-file) several xDS servers must be IP addresses`},
		{"mixed families", []string{"127.0.68.1:18000", "[::1]:18000"}, "must all be IPv4 or all IPv6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := withSecurity(Security{CAFile: "ca.pem", TokenFile: "/t"})
			o.XDSAddress, o.XDSAddresses = "", tc.addrs
			if _, err := Build(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build = %v, want error containing %q", err, tc.want)
			}
		})
	}
}
