package e2esec

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

var (
	// causewayBin is the binary TestMain built, empty when Envoy is missing.
	causewayBin string
	// xdsTLS is whether `causeway serve` speaks TLS on xDS by default (it
	// has --xds-insecure): proxies then bootstrap with client certificates
	// from `causeway certs issue`, the path users run.
	xdsTLS bool
)

// TestMain builds ./cmd/causeway once and holds the machine-wide lock for
// the run: the topology uses fixed loopback addresses.
func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if _, err := e2eutil.FindEnvoy(); err != nil {
		return m.Run() // each test skips (or fails under CAUSEWAY_REQUIRE_E2E)
	}
	bin, done, err := e2eutil.LockAndBuild("e2esec", 3*time.Minute)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2esec: %v\n", err)
		return 1
	}
	defer done()
	causewayBin = bin
	help, err := exec.Command(causewayBin, "serve", "--help").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2esec: causeway serve --help: %v\n%s", err, help)
		return 1
	}
	xdsTLS = strings.Contains(string(help), "--xds-insecure")
	return m.Run()
}
