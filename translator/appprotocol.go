package translator

import (
	"fmt"
	"strings"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/causeway-dev/causeway/model"
)

// Backend application protocols: the Kubernetes standard appProtocol values
// (KEP-3726) the Gateway API asks implementations to honour (GEP-1911).
const (
	// AppProtocolH2C is HTTP/2 over cleartext with prior knowledge.
	AppProtocolH2C = "kubernetes.io/h2c"
	// AppProtocolWS is WebSocket over cleartext HTTP/1.1.
	AppProtocolWS = "kubernetes.io/ws"
	// AppProtocolWSS is WebSocket over TLS, which needs backend TLS
	// (BackendTLSPolicy) that Causeway does not do.
	AppProtocolWSS = "kubernetes.io/wss"
)

// websocketUpgrade is the only upgrade gateway listeners forward. The
// Gateway API says a backend without an appProtocol must not lose
// WebSocket upgrades (GEP-1911), so the upgrade is on for every route and
// not only for kubernetes.io/ws backends; those are the ones promised it.
const websocketUpgrade = "websocket"

// gatewayUpgrades are the HTTP/1.1 upgrades a gateway listener forwards.
// An upgraded request reaches its backend over HTTP/1.1 only when the
// backend's cluster speaks HTTP/1.1, which every cluster does unless its
// port says HTTP/2 (servicePortHTTP2, isHTTP2Protocol).
func gatewayUpgrades() []*hcmv3.HttpConnectionManager_UpgradeConfig {
	return []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: websocketUpgrade}}
}

// servicePortHTTP2 reports whether gateways speak HTTP/2 (prior knowledge)
// to a Service port: its appProtocol when set (kubernetes.io/h2c, or the
// older h2c, http2 and grpc), else a world file's protocol. Everything else,
// kubernetes.io/ws included, gets HTTP/1.1, which WebSocket upgrades need.
func servicePortHTTP2(sp model.ServicePort) bool {
	if sp.AppProtocol != "" {
		return isHTTP2Protocol(strings.TrimPrefix(strings.ToLower(sp.AppProtocol), "kubernetes.io/"))
	}
	return isHTTP2Protocol(sp.Protocol)
}

// unsupportedAppProtocol explains why gateways cannot speak a Service
// port's appProtocol, or is "" when they can. Only WebSocket over TLS is
// refused: it needs TLS to the backend. Unknown values (IANA names, other
// domains) get plain HTTP/1.1, as a port without appProtocol does.
func unsupportedAppProtocol(sp model.ServicePort) string {
	if strings.EqualFold(sp.AppProtocol, AppProtocolWSS) {
		return "appProtocol " + AppProtocolWSS + " needs TLS to the backend, which Causeway does not support"
	}
	return ""
}

// vdServicePort is the port of svc that VirtualDestination port vp
// forwards to, as endpointPort picks it: the Service port named by
// targetPort.name, else the one numbered like vp; nil when vp names a
// number or svc has no such port.
func vdServicePort(vp model.VirtualDestinationPort, svc *model.Service) *model.ServicePort {
	for i := range svc.Ports {
		sp := &svc.Ports[i]
		switch tp := vp.TargetPort; {
		case tp != nil && tp.Number != 0:
			return nil
		case tp != nil && tp.Name != "":
			if sp.Name == tp.Name {
				return sp
			}
		case sp.Port == vp.Number:
			return sp
		}
	}
	return nil
}

// reportWebSocketOverHTTP2 reports the ports of vd that speak HTTP/2 to
// backends whose Service port says kubernetes.io/ws: the port's protocol
// decides for the whole destination, and WebSocket upgrades fail over
// HTTP/2 (the backend would need RFC 8441).
func reportWebSocketOverHTTP2(vd *model.VirtualDestination, services []*model.Service, r *Resources) {
	for pi, vp := range vd.Ports {
		if !isHTTP2Protocol(vp.Protocol) {
			continue
		}
		for _, svc := range services {
			if sp := vdServicePort(vp, svc); sp != nil && strings.EqualFold(sp.AppProtocol, AppProtocolWS) {
				r.report(vdObject(vd), fmt.Sprintf("spec.ports[%d].protocol", pi),
					"protocol %s makes gateways speak HTTP/2 to Service %s/%s of cluster %s, whose port %d says appProtocol %s: WebSocket upgrades will fail (use protocol HTTP)",
					vp.Protocol, svc.Namespace, svc.Name, svc.Cluster, sp.Port, AppProtocolWS)
				break
			}
		}
	}
}
