package xds

import (
	"fmt"
	"testing"
	"time"
	"unicode/utf8"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/causeway-dev/causeway/internal/ca"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// Fuzz targets, run briefly by make test:
//
//	go test -run '^$' -fuzz '^FuzzRequestCodec$' -fuzztime 10s ./xds
//	go test -run '^$' -fuzz '^FuzzWorldSnapshot$' -fuzztime 10s ./xds

// FuzzRequestCodec decodes arbitrary bytes as both request types with the
// server's codec: it must not panic, must accept exactly what protobuf
// accepts, and must decode it to what protobuf does.
func FuzzRequestCodec(f *testing.F) {
	long := make([]string, sharedListMin+1) // decoded as a shared list
	for i := range long {
		long[i] = "outbound|80||app-" + string(rune('a'+i%26)) + ".mesh"
	}
	for _, m := range []proto.Message{
		&discoveryv3.DiscoveryRequest{VersionInfo: "v1", ResourceNames: []string{"a", "b", "a", ""}, TypeUrl: "t", ResponseNonce: "7", ErrorDetail: &status.Status{Code: 3, Message: "bad"}},
		&discoveryv3.DiscoveryRequest{ResourceNames: long, TypeUrl: "t"},
		&discoveryv3.DeltaDiscoveryRequest{TypeUrl: "t", ResourceNamesSubscribe: []string{"x", "y"}, ResourceNamesUnsubscribe: []string{"z"}, InitialResourceVersions: map[string]string{"x": "1"}},
		&discoveryv3.DeltaDiscoveryRequest{ResourceNamesSubscribe: long},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x1a, 0x05, 'a'})
	f.Add([]byte{0x1a, 0x01, 0xff})
	f.Add([]byte{0x18, 0x01}) // field 3 as a varint
	c := newRequestCodec()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, empty := range []proto.Message{&discoveryv3.DiscoveryRequest{}, &discoveryv3.DeltaDiscoveryRequest{}} {
			want, got := proto.Clone(empty), proto.Clone(empty)
			werr := proto.Unmarshal(data, want)
			// Twice: the second may take the shared list the first left.
			for range 2 {
				proto.Reset(got)
				err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(data)}, got)
				if (err == nil) != (werr == nil) {
					t.Fatalf("%T: codec error %v, protobuf error %v", empty, err, werr)
				}
				if err != nil {
					continue
				}
				if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
					t.Fatalf("%T decoded differently (-protobuf +codec):\n%s", empty, d)
				}
			}
		}
	})
}

// FuzzWorldSnapshot builds a world from fuzzed parameters (clusters,
// Services with endpoints, a VirtualDestination and a Gateway route to it,
// with fuzzed names, ports, protocol, addresses and traffic distribution),
// translates it for the gateway and the east-west proxy of every cluster,
// and builds and validates their snapshots: none of it may panic, and a
// snapshot either validates or says why not. (The world file parser has
// its own target in discovery/file; parsing here made each run too slow
// for the coverage-guided fuzzer to get anywhere.)
func FuzzWorldSnapshot(f *testing.F) {
	f.Add(uint8(2), uint8(2), uint16(80), uint16(8080), "HTTP", "app.mesh.internal", "ns", "10.0.0.1", model.TrafficDistributionPreferClose, true)
	f.Add(uint8(3), uint8(0), uint16(443), uint16(0), "TCP", "db.mesh", "data", "fd00::1", "", false)
	f.Add(uint8(1), uint8(5), uint16(9080), uint16(9080), "GRPC", "*.mesh.internal", "a", "127.0.0.1", "Any", true)
	authority, err := ca.LoadOrCreate(f.TempDir(), "causeway.local")
	if err != nil {
		f.Fatal(err)
	}
	creds := map[model.Role]translator.Credentials{}
	for _, role := range []model.Role{model.RoleGateway, model.RoleEastWest} {
		id := authority.SpiffeID(string(role), "fuzz")
		certPEM, keyPEM, _, err := authority.Issue(id, time.Hour)
		if err != nil {
			f.Fatal(err)
		}
		creds[role] = translator.Credentials{CertChainPEM: certPEM, PrivateKeyPEM: keyPEM, RootCAPEM: authority.RootPEM(),
			SpiffeID: id, TrustDomain: authority.TrustDomain()}
	}
	f.Fuzz(func(t *testing.T, clusters, endpoints uint8, port, target uint16, protocol, host, ns, addr, dist string, ready bool) {
		for _, s := range []string{protocol, host, ns, addr, dist} {
			if !utf8.ValidString(s) {
				return // discovery never yields it: YAML and JSON decoding require UTF-8
			}
		}
		w := fuzzWorld(int(clusters%4), int(endpoints%8), uint32(port), uint32(target), protocol, host, ns, addr, dist, ready)
		world := model.NewSnapshot(w)
		for _, c := range world.Clusters() {
			for _, role := range []model.Role{model.RoleGateway, model.RoleEastWest} {
				p := model.Proxy{Role: role, Cluster: c.Name, Locality: c.Locality, BindAddress: "127.0.1.1"}
				snap, _, err := newSnapshot(translator.Translate(world, p, creds[role]))
				if err != nil {
					continue // an encoding failure: reported, never published
				}
				_ = validateSnapshot(snap.view())
			}
		}
	})
}

// fuzzWorld is FuzzWorldSnapshot's world: n clusters, each with Service
// ns/app of eps endpoints (the first at addr), one VirtualDestination for
// host:port over them, and an ingress Gateway in the first cluster routing
// host to it.
func fuzzWorld(n, eps int, port, target uint32, protocol, host, ns, addr, dist string, ready bool) model.World {
	var w model.World
	for i := range n {
		name := fmt.Sprintf("c%d", i)
		w.Clusters = append(w.Clusters, model.Cluster{Name: name, Network: fmt.Sprintf("n%d", i),
			Locality:         model.Locality{Region: fmt.Sprintf("r%d", i), Zone: "z"},
			EastWestGateways: []model.GatewayAddress{{Address: fmt.Sprintf("127.0.%d.100", i), Port: 15443}}})
		svc := model.Service{Cluster: name, Namespace: ns, Name: "app", Labels: map[string]string{"app": "app"},
			Ports: []model.ServicePort{{Name: "http", Port: port, TargetPort: target, Protocol: protocol}}}
		for e := range eps {
			a := fmt.Sprintf("10.%d.0.%d", i, e)
			if e == 0 {
				a = addr
			}
			svc.Endpoints = append(svc.Endpoints, model.Endpoint{Address: a, Ready: ready || e%2 == 1,
				Ports: []model.EndpointPort{{Name: "http", Port: target}}})
		}
		w.Services = append(w.Services, svc)
	}
	w.VirtualDestinations = []model.VirtualDestination{{
		Namespace: ns, Name: "app", Hosts: []string{host},
		Ports:               []model.VirtualDestinationPort{{Number: port, Protocol: protocol, TargetPort: &model.TargetPort{Name: "http"}}},
		Services:            []model.ServiceSelector{{Labels: map[string]string{"app": "app"}}},
		TrafficDistribution: dist,
	}}
	if n > 0 {
		w.GatewayClasses = []*model.GatewayClass{causewayClass()}
		w.Gateways = []*model.Gateway{ingressGateway(ns, "c0")}
		w.HTTPRoutes = []*model.HTTPRoute{hostnameRoute(ns, "app", host, gwv1.PortNumber(port))}
	}
	return w
}
