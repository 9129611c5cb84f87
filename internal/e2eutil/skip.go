package e2eutil

import (
	"os"
	"sync"
	"testing"

	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// EnvRequire set to "1" turns every skip for a missing tool or privilege
// into a failure, so CI cannot pass by silently testing nothing.
const EnvRequire = "CAUSEWAY_REQUIRE_E2E"

// Required reports whether CAUSEWAY_REQUIRE_E2E=1 forbids skipping.
func Required() bool { return os.Getenv(EnvRequire) == "1" }

// SkipOrFail skips t saying why, or fails it when skipping is forbidden.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf(EnvRequire+"=1 but "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// FindEnvoy is envoyrun.Find, looked up once per test binary.
var FindEnvoy = sync.OnceValues(envoyrun.Find)

// RequireEnvoy returns the Envoy binary, or skips (or fails) t when it is
// missing.
func RequireEnvoy(t testing.TB) string {
	t.Helper()
	bin, err := FindEnvoy()
	if err != nil {
		SkipOrFail(t, "real Envoy needed (set CAUSEWAY_ENVOY or run `make envoy`): %v", err)
	}
	return bin
}
