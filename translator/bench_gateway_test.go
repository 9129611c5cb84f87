package translator

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/model"
)

// gatewayBenchSizes are the HTTPRoute counts of the gateway benchmarks:
// the target is linear, 10k ≤ 150 ms and 100k ≤ 1.5 s.
var gatewayBenchSizes = []int{1000, 10000, 100000}

// Shape of the generated hostnames: most routes have a hostname of their
// own under one of gatewayBenchGroups domains; one route in
// gatewayBenchWildcardEvery serves a whole domain by wildcard (so its
// rules back every exact hostname under it), and one in
// gatewayBenchSharedEvery also serves one of gatewayBenchShared hostnames
// shared with other routes (several routes on one virtual host).
const (
	gatewayBenchGroups        = 100
	gatewayBenchWildcardEvery = 100
	gatewayBenchSharedEvery   = 20
	gatewayBenchShared        = 10
)

// gatewayBenchWorld is one GatewayClass, one Gateway with an HTTP listener
// taking routes from every namespace, n HTTPRoutes with two rules each
// (a path prefix, and a path prefix with a header), and n Services with
// eps endpoints each, one per route, in cluster c1.
func gatewayBenchWorld(n, eps int) model.World {
	w := model.World{
		Clusters:       benchClusters[:1],
		GatewayClasses: []*model.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "causeway"}, Spec: gwv1.GatewayClassSpec{ControllerName: model.DefaultControllerName}}},
		Gateways: []*model.Gateway{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: "http"},
			Spec: gwv1.GatewaySpec{GatewayClassName: "causeway", Listeners: []gwv1.Listener{{
				Name: "http", Protocol: gwv1.HTTPProtocolType, Port: 8080,
				AllowedRoutes: &gwv1.AllowedRoutes{Namespaces: &gwv1.RouteNamespaces{From: ptr(gwv1.NamespacesFromAll)}},
			}}},
		}},
	}
	for i := range n {
		name := fmt.Sprintf("app-%d", i)
		svc := model.Service{Cluster: "c1", Namespace: "bench", Name: name, Ports: []model.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}}
		for e := range eps {
			svc.Endpoints = append(svc.Endpoints, model.Endpoint{
				Address: fmt.Sprintf("10.%d.%d.%d", (i*eps+e)>>16, (i*eps+e)>>8&255, (i*eps+e)&255), Ready: true,
				Ports: []model.EndpointPort{{Name: "http", Port: 8080}}, Locality: benchClusters[0].Locality,
			})
		}
		w.Services = append(w.Services, svc)
		var hosts []gwv1.Hostname
		if i%gatewayBenchWildcardEvery == gatewayBenchWildcardEvery-1 {
			hosts = append(hosts, gwv1.Hostname(fmt.Sprintf("*.g%d.example.com", i/gatewayBenchWildcardEvery%gatewayBenchGroups)))
		} else {
			hosts = append(hosts, gwv1.Hostname(fmt.Sprintf("%s.g%d.example.com", name, i%gatewayBenchGroups)))
		}
		if i%gatewayBenchSharedEvery == 0 {
			hosts = append(hosts, gwv1.Hostname(fmt.Sprintf("shared-%d.example.com", i/gatewayBenchSharedEvery%gatewayBenchShared)))
		}
		backend := []gwv1.HTTPBackendRef{{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{
			Name: gwv1.ObjectName(name), Port: ptr(gwv1.PortNumber(80))}}}}
		w.HTTPRoutes = append(w.HTTPRoutes, &model.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: name},
			Spec: gwv1.HTTPRouteSpec{
				CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Namespace: ptr(gwv1.Namespace("bench")), Name: "http"}}},
				Hostnames:       hosts,
				Rules: []gwv1.HTTPRouteRule{
					{Matches: []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/a")}}}, BackendRefs: backend},
					{Matches: []gwv1.HTTPRouteMatch{{
						Path:    &gwv1.HTTPPathMatch{Type: ptr(gwv1.PathMatchPathPrefix), Value: ptr("/b")},
						Headers: []gwv1.HTTPHeaderMatch{{Name: "x-canary", Value: "1"}},
					}}, BackendRefs: backend},
				},
			},
		})
	}
	return w
}

// gatewayBenchVirtualHosts is the number of virtual hosts gatewayBenchWorld
// yields: one per distinct route hostname.
func gatewayBenchVirtualHosts(n int) int {
	wildcards := n / gatewayBenchWildcardEvery
	shared := min(gatewayBenchShared, (n+gatewayBenchSharedEvery-1)/gatewayBenchSharedEvery)
	return n - wildcards + min(wildcards, gatewayBenchGroups) + shared
}

var gatewayBenchProxy = model.Proxy{Role: model.RoleGateway, Cluster: "c1", Gateway: "bench/http", Locality: benchClusters[0].Locality}

// BenchmarkGatewayTranslate: full translation for one gateway class
// serving n HTTPRoutes × 2 rules (see gatewayBenchWorld), in process.
func BenchmarkGatewayTranslate(b *testing.B) {
	for _, n := range gatewayBenchSizes {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			w := model.NewSnapshot(gatewayBenchWorld(n, 10))
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				r := Translate(w, gatewayBenchProxy, Credentials{})
				if len(r.Routes) != 1 || len(r.Routes[0].VirtualHosts) != gatewayBenchVirtualHosts(n) || len(r.Clusters) != n {
					var vhs int
					for _, rc := range r.Routes {
						vhs += len(rc.VirtualHosts)
					}
					b.Fatalf("got %d route configs with %d virtual hosts, %d clusters, want 1 with %d and %d (diagnostics: %v)",
						len(r.Routes), vhs, len(r.Clusters), gatewayBenchVirtualHosts(n), n, firstDiagnostics(r.Diagnostics, 3))
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkGatewayStatuses: the statuses of the same worlds (the status
// writer recomputes them on every world change).
func BenchmarkGatewayStatuses(b *testing.B) {
	for _, n := range gatewayBenchSizes {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			w := model.NewSnapshot(gatewayBenchWorld(n, 10))
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				rep := Statuses(w)
				if len(rep.HTTPRoutes) != n || len(rep.Gateways) != 1 || rep.Gateways[0].Listeners[0].AttachedRoutes != int32(n) {
					b.Fatalf("got %d route statuses, %d gateway statuses, want %d and 1 with every route attached", len(rep.HTTPRoutes), len(rep.Gateways), n)
				}
			}
			cpu.report(b)
		})
	}
}

func firstDiagnostics[T any](ds []T, n int) []T { return ds[:min(n, len(ds))] }
