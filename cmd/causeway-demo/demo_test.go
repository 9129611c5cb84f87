package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/examples/demo"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// TestDemoCheck runs the demo's --check scenario for real: the causeway
// binary, five Envoys (one the in-cluster client proxy) and the sample
// backends, with the demo world moved from 127.0.N.x to 127.0.4N.x and the
// control plane to other ports, so it runs next to a live `make demo`.
func TestDemoCheck(t *testing.T) {
	envoy, err := envoyrun.Find()
	if err != nil {
		if os.Getenv("CAUSEWAY_REQUIRE_E2E") == "1" {
			t.Fatalf("CAUSEWAY_REQUIRE_E2E=1 but %v", err)
		}
		t.Skipf("no Envoy (%v); `make test` installs one", err)
	}
	if testing.Short() {
		t.Skip("starts real processes; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "causeway")
	build := exec.Command("go", "build", "-o", bin, "github.com/causeway-dev/causeway/cmd/causeway")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/causeway: %v\n%s", err, out)
	}
	world := moveLoopback(string(demo.World), func(n int) string { return fmt.Sprintf("127.0.%d", 40+n) })
	worldPath := filepath.Join(dir, "world.yaml")
	if err := os.WriteFile(worldPath, []byte(world), 0o644); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	err = demoMain([]string{
		"--check", "--world", worldPath, "--work-dir", filepath.Join(dir, "work"),
		"--causeway-bin", bin, "--envoy", envoy,
		"--xds-address", "127.0.40.1:18040", "--metrics-address", "127.0.40.1:19140",
	}, strings.NewReader(""), &out)
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"healthy:", "down:", "up:", "check passed", "plaintext xDS without authentication (causeway serve --xds-insecure)",
		// The in-cluster client resolved through its proxy's DNS and called
		// before and after the failover.
		"in-cluster client, healthy: reviews.mesh.internal.com resolved to 127.0.41.50:9080 by cluster-1-client's DNS (127.0.41.50:15053)",
		"in-cluster client, down:", "in-cluster client, up:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Everything the demo started is gone: nothing listens on its addresses.
	for _, addr := range []string{"127.0.41.1:19000", "127.0.41.1:8080", "127.0.41.50:9080", "127.0.42.100:15443", "127.0.40.1:18040", "127.0.41.10:9080"} {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the demo returned", addr)
		}
	}
}
