package translator

import (
	"path/filepath"
	"strings"
	"testing"

	dnsfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/udp/dns_filter/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
)

func loadGoldenWorld(t *testing.T, name string) *model.Snapshot {
	t.Helper()
	w, err := file.Load(filepath.Join(goldenDir, name, "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestClientMeshRouteStatuses: a mesh parentRef gets a parents entry of
// Causeway's with Accepted and ResolvedRefs saying what client proxies do
// with it.
func TestClientMeshRouteStatuses(t *testing.T) {
	for _, tc := range []struct {
		golden, route  string
		accepted       metav1.ConditionStatus
		reason         gwv1.RouteConditionReason
		messagePart    string
		resolvedReason gwv1.RouteConditionReason
	}{
		{"client-mesh-route-split", "ns/app-split", metav1.ConditionTrue, gwv1.RouteReasonAccepted,
			"attached to VirtualDestination ns/app for client proxies: app.global:8080", gwv1.RouteReasonResolvedRefs},
		{"client-mesh-route-split", "ns/missing-parent", metav1.ConditionFalse, gwv1.RouteReasonNoMatchingParent,
			"VirtualDestination ns/nowhere not found", gwv1.RouteReasonResolvedRefs},
		{"client-federated", "ns/app-v2-header", metav1.ConditionTrue, gwv1.RouteReasonAccepted,
			"federated hostnames of Service ns/app-v2 for client proxies: app-v2.ns.svc.cluster-2.global:8080", gwv1.RouteReasonResolvedRefs},
		{"client-federated", "ns/not-federated", metav1.ConditionFalse, gwv1.RouteReasonNoMatchingParent,
			"Service ns/unknown has no federated hostname", gwv1.RouteReasonResolvedRefs},
		{"client-workspace", "shop/shop-route", metav1.ConditionFalse, reasonNotAllowedByWorkspace,
			"VirtualDestination ns/app is in workspace team-a, which workspace team-b does not see (team-a does not export to team-b)",
			gwv1.RouteReasonBackendNotFound},
	} {
		t.Run(tc.golden+"/"+tc.route, func(t *testing.T) {
			rep := Statuses(loadGoldenWorld(t, tc.golden))
			var st *HTTPRouteStatus
			for i := range rep.HTTPRoutes {
				if r := &rep.HTTPRoutes[i]; r.Namespace+"/"+r.Name == tc.route {
					st = r
				}
			}
			if st == nil || len(st.Parents) != 1 {
				t.Fatalf("route %s: status %+v, want one parent", tc.route, st)
			}
			p := st.Parents[0]
			if p.ControllerName != rep.ControllerName {
				t.Errorf("controllerName %q, want %q", p.ControllerName, rep.ControllerName)
			}
			acc := findCondition(p.Conditions, string(gwv1.RouteConditionAccepted))
			if acc == nil || acc.Status != tc.accepted || acc.Reason != string(tc.reason) || !strings.Contains(acc.Message, tc.messagePart) {
				t.Errorf("Accepted = %+v, want %s/%s containing %q", acc, tc.accepted, tc.reason, tc.messagePart)
			}
			if rr := findCondition(p.Conditions, string(gwv1.RouteConditionResolvedRefs)); rr == nil || rr.Reason != string(tc.resolvedReason) {
				t.Errorf("ResolvedRefs = %+v, want reason %s", rr, tc.resolvedReason)
			}
		})
	}
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// TestGatewayLeavesMeshParentsAlone: a gateway proxy neither serves mesh
// routes nor reports their parentRefs as "not a Gateway".
func TestGatewayLeavesMeshParentsAlone(t *testing.T) {
	w := loadGoldenWorld(t, "client-mesh-route-split")
	res := Translate(w, model.Proxy{Role: model.RoleGateway, Cluster: "cluster-1", Gateway: model.AllGateways}, testCredentials)
	for _, d := range res.Diagnostics {
		if strings.Contains(d.Object, "HTTPRoute") {
			t.Errorf("gateway proxy diagnostic about a mesh route: %s", d)
		}
	}
	if len(res.Listeners) != 0 || len(res.Routes) != 0 {
		t.Errorf("gateway proxy without Gateways got %d listeners, %d routes", len(res.Listeners), len(res.Routes))
	}
}

// TestClientDNSTable: the DNS listener answers every served hostname once
// with the bind address (IPv4 or IPv6) on the DNS port, and only those.
func TestClientDNSTable(t *testing.T) {
	w := loadGoldenWorld(t, "client-mesh-route-split")
	for _, tc := range []struct {
		name     string
		p        model.Proxy
		wantPort uint32
	}{
		{"IPv4, default port", model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", BindAddress: "127.0.1.50"}, model.DefaultDNSPort},
		{"IPv6, port 53", model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", BindAddress: "fd00::50", DNSPort: 53}, 53},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Translate(w, tc.p, testCredentials)
			var dns *dnsfilterv3.DnsFilterConfig
			for _, l := range res.Listeners {
				if l.GetName() != ClientDNSListenerName {
					continue
				}
				sa := l.GetAddress().GetSocketAddress()
				if sa.GetAddress() != tc.p.BindAddress || sa.GetPortValue() != tc.wantPort || sa.GetProtocol().String() != "UDP" {
					t.Errorf("DNS listener on %s %s:%d, want UDP %s:%d", sa.GetProtocol(), sa.GetAddress(), sa.GetPortValue(), tc.p.BindAddress, tc.wantPort)
				}
				dns = &dnsfilterv3.DnsFilterConfig{}
				if err := l.GetListenerFilters()[0].GetTypedConfig().UnmarshalTo(dns); err != nil {
					t.Fatal(err)
				}
			}
			if dns == nil {
				t.Fatalf("no %s listener", ClientDNSListenerName)
			}
			if dns.GetClientConfig() != nil {
				t.Errorf("DNS filter forwards unknown names (client_config set)")
			}
			var got []string
			for _, vd := range dns.GetServerConfig().GetInlineDnsTable().GetVirtualDomains() {
				addrs := vd.GetEndpoint().GetAddressList().GetAddress()
				if len(addrs) != 1 || addrs[0] != tc.p.BindAddress {
					t.Errorf("%s answers %v, want [%s]", vd.GetName(), addrs, tc.p.BindAddress)
				}
				got = append(got, vd.GetName())
			}
			if strings.Join(got, ",") != "app.global,other.global" {
				t.Errorf("DNS names %v, want app.global, other.global", got)
			}
		})
	}
}

// TestClientNamespaceOutsideWorkspaces: a client proxy whose namespace is
// in no workspace serves nothing and says why.
func TestClientNamespaceOutsideWorkspaces(t *testing.T) {
	w := loadGoldenWorld(t, "client-workspace")
	res := Translate(w, model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", BindAddress: "127.0.1.50", Namespace: "nowhere"}, testCredentials)
	if len(res.Listeners)+len(res.Clusters)+len(res.Endpoints) != 0 {
		t.Errorf("got %d listeners, %d clusters, %d assignments; want none", len(res.Listeners), len(res.Clusters), len(res.Endpoints))
	}
	found := false
	for _, d := range res.Diagnostics {
		if d.Field == "node.metadata.causeway.namespace" && strings.Contains(d.Message, "namespace nowhere is in no Workspace") {
			found = true
		}
	}
	if !found {
		t.Errorf("no diagnostic naming causeway.namespace: %v", res.Diagnostics)
	}
	if got := LoadAssignments(w, model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", BindAddress: "127.0.1.50", Namespace: "nowhere"},
		map[model.ServiceKey]bool{{Cluster: "cluster-1", Namespace: "ns", Name: "app-v1"}: true}); len(got) != 0 {
		t.Errorf("fast path gives %d assignments to a client proxy that serves nothing", len(got))
	}
}
