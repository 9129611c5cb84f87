package xds

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/causeway-dev/causeway/model"
)

// namingGateway is a node of role with node metadata naming gateway.
func namingGateway(id string, role model.Role, gateway string) *corev3.Node {
	n := node(id, role, "cluster-1", model.Locality{})
	n.Metadata.Fields[model.NodeMetaGateway] = structpb.NewStringValue(gateway)
	return n
}

// TestTLSProvisionedGatewayToken: the ServiceAccount Causeway provisions
// for a Gateway admits gateway proxies of that Gateway, and nothing else.
func TestTLSProvisionedGatewayToken(t *testing.T) {
	h := start(t, Options{TokenReviewer: fakeReviewer{
		"cluster-1/front":         "system:serviceaccount:causeway-system:" + model.ProvisionedName("web", "front"),
		"cluster-1/other-ns-sa":   "system:serviceaccount:bookinfo:" + model.ProvisionedName("web", "front"),
		"cluster-1/shared-access": "system:serviceaccount:causeway-system:causeway-gateway",
	}})
	conn := h.dialTLS()
	h.sotwOn(bearer("front"), conn, namingGateway("front-1", model.RoleGateway, "web/front")).served()
	h.sotwOn(bearer("front"), conn, namingGateway("front-2", model.RoleGateway, "web/back")).refused(
		codes.PermissionDenied, "claims gateway/cluster-1")
	h.sotwOn(bearer("front"), conn, gatewayNode("no-gateway")).refused(codes.PermissionDenied, "claims gateway/cluster-1")
	h.sotwOn(bearer("front"), conn, node("ew", model.RoleEastWest, "cluster-1", model.Locality{})).refused(
		codes.PermissionDenied, "claims eastwest/cluster-1")
	h.sotwOn(bearer("other-ns-sa"), conn, namingGateway("front-3", model.RoleGateway, "web/front")).refused(
		codes.PermissionDenied, "system:serviceaccount:bookinfo:")
	// The shared gateway account still serves any Gateway.
	h.sotwOn(bearer("shared-access"), conn, namingGateway("front-4", model.RoleGateway, "web/front")).served()
}
