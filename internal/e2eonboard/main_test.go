package e2eonboard

import (
	"fmt"
	"os"
	"testing"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// causewayBin is the binary TestMain built.
var causewayBin string

// TestMain builds ./cmd/causeway once, so the test runs the real binary.
func TestMain(m *testing.M) {
	bins, remove, err := e2eutil.BuildCommands("causeway-e2eonboard-bin-", "causeway")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2eonboard: %v\n", err)
		os.Exit(1)
	}
	causewayBin = bins[0]
	code := m.Run()
	remove()
	os.Exit(code)
}
