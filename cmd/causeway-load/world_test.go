package main

import (
	"slices"
	"testing"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/proto"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// TestGeneratedWorld: the world loads, the gateway gets one EDS cluster per
// VirtualDestination under edsName, and a not-ready endpoint leaves it.
func TestGeneratedWorld(t *testing.T) {
	spec := worldSpec{vds: 20, eps: 4, notReady: map[int]bool{3: true}}
	snap, err := file.Parse("world.yaml", generateWorld(spec))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(snap.VirtualDestinations()); got != 20 {
		t.Fatalf("%d VirtualDestinations, want 20", got)
	}
	p := model.Proxy{Role: model.RoleGateway, Cluster: benchClusters[0], Locality: model.Locality{Region: "r1", Zone: "z1"}, Gateway: model.AllGateways}
	r := translator.Translate(snap, p, translator.Credentials{})
	byName := map[string]*endpointv3.ClusterLoadAssignment{}
	for _, e := range r.Endpoints {
		byName[e.GetClusterName()] = e
	}
	for i := 0; i < spec.vds; i++ {
		if edsName(i) != translator.OutboundClusterName(vdHost(i), vdPort) {
			t.Fatalf("edsName(%d) = %q, translator says %q", i, edsName(i), translator.OutboundClusterName(vdHost(i), vdPort))
		}
		cla := byName[edsName(i)]
		if cla == nil {
			t.Fatalf("no EDS %s; have %d", edsName(i), len(byName))
		}
		b, _ := proto.Marshal(cla)
		if string(claName(b)) != edsName(i) {
			t.Fatalf("claName = %q", claName(b))
		}
		if got, want := hasHealthyAddress(cla, endpointAddress(0, i, 0)), i != 3; got != want {
			t.Errorf("VD %d: endpoint 0 healthy = %v, want %v", i, got, want)
		}
	}
	var eds []string
	for _, c := range r.Clusters {
		b, _ := proto.Marshal(c)
		if n, ok := edsClusterName(b); ok {
			eds = append(eds, string(n))
		}
	}
	if !slices.Contains(eds, edsName(0)) || len(eds) != spec.vds {
		t.Errorf("EDS clusters %v", eds)
	}
}

// TestLargestWorldFits: the largest world stays under the world
// file limit.
func TestLargestWorldFits(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 16 MB")
	}
	if n := len(generateWorld(worldSpec{vds: 10000, eps: 10})); n > file.MaxWorldFileBytes {
		t.Fatalf("10,000 VDs: %d bytes, over %d", n, file.MaxWorldFileBytes)
	} else {
		t.Logf("10,000 VDs × 3 clusters × 10 endpoints: %d bytes", n)
	}
}

func TestParseBench(t *testing.T) {
	out := []byte("goos: linux\nBenchmarkEndpointFastPath/vds=1000-2   \t 1000\t 1234567 ns/op\t 2048 B/op\t 12 allocs/op\nPASS\n")
	bs := parseBench(out)
	if len(bs) != 1 || bs[0].NsPerOp != 1234567 || bs[0].AllocsPerOp != 12 || shortSize(bs[0].Name) != "vds=1000" {
		t.Fatalf("%+v", bs)
	}
}

func TestPNG(t *testing.T) {
	r := &results{Scales: []scaleResult{{VDs: 100, RSSMiB: 100, Samples: []float64{1, 2, 3}}, {VDs: 1000, RSSMiB: 300}}}
	if err := drawPNG(r, t.TempDir()+"/r.png"); err != nil {
		t.Fatal(err)
	}
}
