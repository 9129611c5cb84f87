package nodeagent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// EchoBasicPackage is the Gateway API conformance suite's echo backend
// (a `go tool` of this module, so its version is the suite's).
const EchoBasicPackage = "sigs.k8s.io/gateway-api/conformance/echo-basic"

// BuildEchoBasic builds echo-basic into dir and returns the binary's path.
func BuildEchoBasic(t testing.TB, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "echo-basic")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, EchoBasicPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", EchoBasicPackage, err, b)
	}
	return out
}
