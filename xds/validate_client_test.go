package xds

import (
	"path/filepath"
	"testing"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/model"
	"github.com/causeway-dev/causeway/translator"
)

// TestClientProxySnapshotValidates: a client proxy's resources, with its
// UDP DNS listener (no filter chains, a listener filter) and its RDS
// listeners, pass the checks every push runs, so the server sends them.
func TestClientProxySnapshotValidates(t *testing.T) {
	for _, golden := range []string{"client-basic", "client-mesh-route-split", "client-federated"} {
		t.Run(golden, func(t *testing.T) {
			w, err := file.Load(filepath.Join("..", "testdata", "translator", golden, "world.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			p := model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", BindAddress: "127.0.1.50", Namespace: "ns"}
			res := translator.Translate(w, p, translator.Credentials{CertChainPEM: []byte("c"), PrivateKeyPEM: []byte("k"), RootCAPEM: []byte("r")})
			if len(res.Listeners) < 2 {
				t.Fatalf("client proxy got %d listeners, want HTTP and DNS ones", len(res.Listeners))
			}
			snap, _, err := newSnapshot(res)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateSnapshot(snap.view()); err != nil {
				t.Errorf("client proxy snapshot rejected: %v", err)
			}
		})
	}
}

// TestClientProxyWithoutDestinationsValidates: with nothing to serve the
// client proxy still gets its DNS listener (an empty table: every name
// NXDOMAIN), and that passes the push checks too.
func TestClientProxyWithoutDestinationsValidates(t *testing.T) {
	w := model.NewSnapshot(model.World{Clusters: []model.Cluster{{Name: "cluster-1"}}})
	res := translator.Translate(w, model.Proxy{Role: model.RoleClient, Cluster: "cluster-1", BindAddress: "127.0.1.50"}, translator.Credentials{})
	if len(res.Listeners) != 1 || res.Listeners[0].GetName() != translator.ClientDNSListenerName {
		t.Fatalf("listeners %v, want only %s", res.Listeners, translator.ClientDNSListenerName)
	}
	snap, _, err := newSnapshot(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateSnapshot(snap.view()); err != nil {
		t.Errorf("client proxy snapshot rejected: %v", err)
	}
}
