package xds

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/causeway-dev/causeway/discovery/file"
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

// FuzzWorldSnapshot parses arbitrary bytes as a world file and, when it
// loads, translates it for a gateway and an east-west proxy of its first
// clusters and builds and validates their snapshots: none of it may panic,
// and a snapshot that builds either validates or says why not.
func FuzzWorldSnapshot(f *testing.F) {
	for _, pattern := range []string{"../examples/docker-compose/world.yaml", "../examples/policies/*.yaml", "../examples/demo/*.yaml"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
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
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256<<10 {
			return // the parser's own limits are FuzzWorld's (discovery/file)
		}
		world, err := file.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		clusters := world.Clusters()
		for _, c := range clusters[:min(len(clusters), 2)] {
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
