package translator

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/model"
)

// TestServiceEndpointSetMatchesCandidates: serviceCluster's direct
// endpoint set gives the assignment the candidate path gives, for Services
// with not-ready, stale, named-port and multi-locality endpoints, in the
// proxy's cluster or another.
func TestServiceEndpointSetMatchesCandidates(t *testing.T) {
	localities := []model.Locality{{}, {Region: "r1", Zone: "z1"}, {Region: "r1", Zone: "z2"}, {Region: "r2", Zone: "z1", Subzone: "s"}}
	rng := rand.New(rand.NewPCG(14, 6))
	var svcs []model.Service
	for i := range 300 {
		svc := model.Service{Cluster: []string{"c1", "c1", "c2"}[i%3], Namespace: "ns", Name: fmt.Sprintf("s%d", i),
			Ports: []model.ServicePort{{Name: []string{"", "http"}[rng.IntN(2)], Port: 80, TargetPort: uint32(8000 + rng.IntN(2))}}}
		for e := range rng.IntN(12) {
			svc.Endpoints = append(svc.Endpoints, model.Endpoint{
				Address: fmt.Sprintf("10.0.%d.%d", rng.IntN(3), e), Ready: rng.IntN(5) > 0, Stale: rng.IntN(6) == 0,
				Locality: localities[rng.IntN(len(localities))],
				Ports:    []model.EndpointPort{{Name: "http", Port: uint32(9000 + rng.IntN(2))}},
			})
		}
		svcs = append(svcs, svc)
	}
	w := model.NewSnapshot(model.World{Clusters: benchClusters[:2], Services: svcs})
	p := model.Proxy{Role: model.RoleGateway, Cluster: "c1", Locality: benchClusters[0].Locality}
	nonEmpty := 0
	for i := range svcs {
		svc, sp := &svcs[i], svcs[i].Ports[0]
		want := endpointSetFor(serviceCandidates(w, p, svc, sp, nil), nil, nil, labelSet{}).assignment("x", flatPriority)
		got := serviceEndpointSet(w, p, svc, sp).assignment("x", flatPriority)
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Fatalf("Service %s (cluster %s): assignment differs (-candidates +direct):\n%s", svc.Name, svc.Cluster, diff)
		}
		if !proto.Equal(want, got) {
			t.Fatalf("Service %s: assignments not equal", svc.Name)
		}
		if len(got.Endpoints) > 1 {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		t.Fatal("no Service has endpoints in several groups: the test exercises too little")
	}
}
