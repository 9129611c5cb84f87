package e2ekube

import (
	"fmt"
	"os"
	"testing"

	"github.com/causeway-dev/causeway/internal/e2eutil"
	"github.com/causeway-dev/causeway/internal/testenv/kubeenv"
)

// kubeEnv is the package's one etcd and three API servers, started by the
// first test that needs them; their logs are kept when a test fails.
var kubeEnv = kubeenv.NewShared("management", "cluster-1", "cluster-2")

// causewayBin and backendBin are the binaries TestMain built.
var causewayBin, backendBin string

// TestMain builds ./cmd/causeway and ./cmd/sample-backend once, so the tests
// run the real binaries.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bins, remove, err := e2eutil.BuildCommands("causeway-e2ekube-bin-", "causeway", "sample-backend")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2ekube: %v\n", err)
		return 1
	}
	defer remove()
	causewayBin, backendBin = bins[0], bins[1]
	return kubeEnv.Run(m)
}
