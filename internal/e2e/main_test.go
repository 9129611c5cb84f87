package e2e

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// causewayBin is the binary TestMain built, empty when Envoy is missing.
var causewayBin string

// TestMain builds ./cmd/causeway once, so the tests run the real binary.
// When Envoy is there it holds the machine-wide lock (e2eutil.Lock) for the
// whole run: the topology uses fixed loopback addresses and ports, and two
// `go test` runs should queue instead of failing with "address already in
// use".
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := e2eutil.FindEnvoy(); err == nil {
		bin, done, err := e2eutil.LockAndBuild("e2e", 3*time.Minute)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
		defer done()
		causewayBin = bin
	}
	return m.Run()
}
