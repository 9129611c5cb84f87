package translator

import (
	"fmt"
	"testing"

	"github.com/causeway-dev/causeway/model"
)

// benchWorld builds two clusters with n VirtualDestinations, each backed by
// one Service per cluster with eps endpoints.
func benchWorld(n, eps int) *model.Snapshot {
	w := model.World{Clusters: []model.Cluster{
		{Name: "c1", Network: "n1", Locality: model.Locality{Region: "r1", Zone: "z1"}, EastWestGateways: []model.GatewayAddress{{Address: "127.0.1.100", Port: 15443}}},
		{Name: "c2", Network: "n2", Locality: model.Locality{Region: "r2", Zone: "z2"}, EastWestGateways: []model.GatewayAddress{{Address: "127.0.2.100", Port: 15443}}},
	}}
	for i := 0; i < n; i++ {
		app := fmt.Sprintf("app-%d", i)
		for c, cluster := range []string{"c1", "c2"} {
			svc := model.Service{Cluster: cluster, Namespace: "ns", Name: app, Labels: map[string]string{"app": app},
				Ports: []model.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}}
			for e := 0; e < eps; e++ {
				svc.Endpoints = append(svc.Endpoints, model.Endpoint{
					Address: fmt.Sprintf("10.%d.%d.%d", c, i%250, e%250), Ready: true,
					Ports:    []model.EndpointPort{{Name: "http", Port: 8080}},
					Locality: w.Clusters[c].Locality,
				})
			}
			w.Services = append(w.Services, svc)
		}
		w.VirtualDestinations = append(w.VirtualDestinations, model.VirtualDestination{
			Namespace: "ns", Name: app, Hosts: []string{app + ".mesh.internal"},
			Ports:               []model.VirtualDestinationPort{{Number: 80}},
			Services:            []model.ServiceSelector{{Labels: map[string]string{"app": app}}},
			TrafficDistribution: model.TrafficDistributionPreferClose,
		})
	}
	return model.NewSnapshot(w)
}

func BenchmarkTranslateGateway(b *testing.B) {
	for _, size := range []struct{ vds, eps int }{{10, 3}, {100, 10}, {1000, 10}} {
		b.Run(fmt.Sprintf("vds=%d/eps=%d", size.vds, size.eps), func(b *testing.B) {
			w := benchWorld(size.vds, size.eps)
			p := model.Proxy{Role: model.RoleGateway, Cluster: "c1", Locality: model.Locality{Region: "r1", Zone: "z1"}}
			b.ReportAllocs()
			for b.Loop() {
				r := Translate(w, p, Credentials{})
				if len(r.Clusters) != size.vds {
					b.Fatalf("got %d clusters, want %d", len(r.Clusters), size.vds)
				}
			}
		})
	}
}

// BenchmarkStatuses: the status writer recomputes on every world change.
func BenchmarkStatuses(b *testing.B) {
	w := benchWorld(1000, 10)
	b.ReportAllocs()
	for b.Loop() {
		if rep := Statuses(w); len(rep.VirtualDestinations) != 1000 {
			b.Fatalf("got %d VirtualDestination statuses, want 1000", len(rep.VirtualDestinations))
		}
	}
}
