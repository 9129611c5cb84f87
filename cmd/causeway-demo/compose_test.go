package main

import (
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/examples/demo"
)

const composeDir = "../../examples/docker-compose"

// TestComposeUpToDate regenerates the docker-compose example into a
// temporary directory, as `make compose` does, and compares it with the
// committed files, so the example cannot drift from the demo world.
func TestComposeUpToDate(t *testing.T) {
	out := t.TempDir()
	if err := composeMain([]string{"--out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := generatedFiles(t, out)
	got := generatedFiles(t, composeDir)
	if diff := cmp.Diff(sortedKeys(want), sortedKeys(got)); diff != "" {
		t.Errorf("generated file set differs from %s (-generated +committed); run `make compose`:\n%s", composeDir, diff)
	}
	for name, w := range want {
		if g, ok := got[name]; ok {
			if diff := cmp.Diff(string(w), string(g)); diff != "" {
				t.Errorf("%s is stale (-generated +committed); run `make compose`:\n%s", name, diff)
			}
		}
	}
}

// generatedFiles reads the files the generator owns under dir: world.yaml,
// docker-compose.yaml and envoy/*.
func generatedFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	names := []string{"world.yaml", "docker-compose.yaml"}
	envoys, err := filepath.Glob(filepath.Join(dir, "envoy", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range envoys {
		names = append(names, "envoy/"+filepath.Base(e))
	}
	files := map[string][]byte{}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		files[n] = data
	}
	return files
}

// TestComposeWorld checks the rewrite itself: every loopback address moves
// to the compose network, nothing else changes, and the result parses.
func TestComposeWorld(t *testing.T) {
	cw := string(composeWorld(demo.World))
	if strings.Contains(cw, "127.0.") {
		t.Errorf("compose world still has a loopback address")
	}
	if !strings.HasPrefix(cw, generatedNote) {
		t.Errorf("compose world does not start with the generated note")
	}
	back := strings.ReplaceAll(cw, "172.30.", "127.0.")
	if i := strings.Index(back, "apiVersion:"); i < 0 || !strings.Contains(string(demo.World), back[i:]) {
		t.Errorf("compose world differs from the demo world beyond addresses")
	}
	if _, err := file.Parse("compose world", []byte(cw)); err != nil {
		t.Fatal(err)
	}
}

func TestComposeServices(t *testing.T) {
	files, err := generateCompose(demo.World)
	if err != nil {
		t.Fatal(err)
	}
	compose := string(files["docker-compose.yaml"])
	var ips []string
	for _, l := range strings.Split(compose, "\n") {
		if ip, ok := strings.CutPrefix(strings.TrimSpace(l), "ipv4_address: "); ok {
			ips = append(ips, ip)
		}
	}
	sort.Strings(ips)
	want := []string{
		"172.30.0.2", "172.30.1.1", "172.30.1.10", "172.30.1.100", "172.30.1.101", "172.30.1.11", "172.30.1.50",
		"172.30.2.10", "172.30.2.100", "172.30.2.11", "172.30.2.12",
	}
	if diff := cmp.Diff(want, ips); diff != "" {
		t.Errorf("container addresses (-want +got):\n%s", diff)
	}
	if !strings.Contains(compose, `ports: ["8080:8080", "19000:19000"]`) {
		t.Errorf("gateway does not publish its listener and admin ports:\n%s", compose)
	}
	client := string(files["envoy/cluster-1-client.yaml"])
	for _, want := range []string{"causeway.bind_address: 172.30.1.50", "causeway.role: client", "causeway.cluster: cluster-1"} {
		if !strings.Contains(client, want) {
			t.Errorf("client proxy bootstrap lacks %q:\n%s", want, client)
		}
	}
	gw := string(files["envoy/cluster-1-gateway.yaml"])
	for _, want := range []string{"address: 172.30.0.2", "causeway.bind_address: 172.30.1.1", "causeway.role: gateway", "address: 172.30.1.1"} {
		if !strings.Contains(gw, want) {
			t.Errorf("gateway bootstrap lacks %q:\n%s", want, gw)
		}
	}
}

// TestComposePlaintextMatches: the compose control plane serves plaintext
// xDS, so every bootstrap must connect in plaintext too (a TLS bootstrap
// against it, or the reverse, would never get configuration).
func TestComposePlaintextMatches(t *testing.T) {
	files, err := generateCompose(demo.World)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files["docker-compose.yaml"]), `"--xds-insecure"`) {
		t.Fatal("compose causeway serve does not run with --xds-insecure")
	}
	for name, data := range files {
		if strings.HasPrefix(name, "envoy/") && strings.Contains(string(data), "transport_socket") {
			t.Errorf("%s uses TLS towards a plaintext control plane", name)
		}
	}
}
