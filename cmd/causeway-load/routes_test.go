package main

import (
	"bytes"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// TestRouteWorld: the route run's world loads without diagnostics, the
// gateway gets routeConfigName with a virtual host per route, a changed
// route's marker is in its encoding (and no other change's marker), and
// the 10k-route world fits the world file limit.
func TestRouteWorld(t *testing.T) {
	const n = 30
	p := model.Proxy{Role: model.RoleGateway, Cluster: benchClusters[0], Locality: model.Locality{Region: "r1", Zone: "z1"}, Gateway: model.AllGateways}
	for _, changed := range []map[int]int{{}, {7: 1}, {7: 1, 12: 12}} {
		snap, err := file.Parse("world.yaml", generateRouteWorld(n, 3, changed))
		if err != nil {
			t.Fatal(err)
		}
		r := translator.Translate(snap, p, translator.Credentials{})
		if len(r.Diagnostics) > 0 {
			t.Fatalf("diagnostics: %v", r.Diagnostics)
		}
		if len(r.Routes) != 1 || r.Routes[0].GetName() != routeConfigName || len(r.Routes[0].GetVirtualHosts()) != n {
			t.Fatalf("route configurations %d, want %s with %d virtual hosts", len(r.Routes), routeConfigName, n)
		}
		enc, err := proto.Marshal(r.Routes[0])
		if err != nil {
			t.Fatal(err)
		}
		for gen := 1; gen <= 12; gen++ {
			want := gen == 1 && changed[7] == 1 || gen == 12 && changed[12] == 12
			split := mem.BufferSlice{mem.SliceBuffer(enc[:len(enc)/2]), mem.SliceBuffer(enc[len(enc)/2:])}
			if got := containsAcross(split, []byte(routeMarker(gen))); got != want || bytes.Contains(enc, []byte(routeMarker(gen))) != want {
				t.Errorf("changes %v: marker of change %d found %v, want %v", changed, gen, got, want)
			}
		}
	}
	if testing.Short() {
		return
	}
	if size := len(generateRouteWorld(10000, 10, nil)); size > file.MaxWorldFileBytes {
		t.Fatalf("10,000 routes: %d bytes, over %d", size, file.MaxWorldFileBytes)
	}
}
