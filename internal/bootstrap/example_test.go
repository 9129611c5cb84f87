package bootstrap_test

import (
	"fmt"

	grpccredv3 "github.com/envoyproxy/go-control-plane/envoy/config/grpc_credential/v3"

	"github.com/causeway-dev/causeway/internal/bootstrap"
	"github.com/causeway-dev/causeway/model"
)

// A provisioned gateway pod authenticates with its projected
// service-account token: the bootstrap names the file, which Envoy reads
// on every ADS (re)connect.
func ExampleProto_tokenFile() {
	b, err := bootstrap.Proto(bootstrap.Options{
		Role: model.RoleGateway, Cluster: "cluster-1", Gateway: "default/web", NodeID: "gateway-0",
		XDSAddress: "causeway.causeway-system.svc:18000",
		Security: bootstrap.Security{
			CAFile:     "/etc/causeway/ca.pem",
			TokenFile:  "/var/run/secrets/causeway/token",
			ServerName: "causeway.causeway-system.svc",
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	g := b.GetDynamicResources().GetAdsConfig().GetGrpcServices()[0].GetGoogleGrpc()
	plugin := &grpccredv3.FileBasedMetadataConfig{}
	if err := g.GetCallCredentials()[0].GetFromPlugin().GetTypedConfig().UnmarshalTo(plugin); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g.GetTargetUri())
	fmt.Println(plugin.GetHeaderKey()+":", plugin.GetHeaderPrefix()+"<"+plugin.GetSecretData().GetFilename()+">")
	fmt.Println("verifies", g.GetChannelArgs().GetArgs()["grpc.ssl_target_name_override"].GetStringValue())
	// Output:
	// dns:///causeway.causeway-system.svc:18000
	// authorization: Bearer </var/run/secrets/causeway/token>
	// verifies causeway.causeway-system.svc
}
