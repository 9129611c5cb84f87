package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/e2eutil"
)

// testConflict: bookinfo/owner and the newer bookinfo/aaa-usurper claim
// owner.mesh.internal.com:9080. Traffic reaches only the older one's
// backend; `causeway translate` on the same world exits 1 with one
// diagnostic naming the newer VirtualDestination, the host:port and the
// winner, and `causeway serve` logs it.
func testConflict(t *testing.T, top *topology) {
	const n = 50
	byInstance := countAnswers(t, "/owner", n, "a 200 from owner-old, bookinfo/owner's backend",
		func(a answer) bool { return directFrom(a) && a.backend.Instance == "owner-old" },
		func(a answer) string { return a.backend.Instance })
	t.Logf("%d requests to owner.mesh.internal.com: %v", n, byInstance)

	// Positive control: without the usurper the world translates cleanly,
	// so the diagnostic below is the conflict's and nothing else's.
	clean := filepath.Join(t.TempDir(), "world.yaml")
	if err := os.WriteFile(clean, renderPolicyWorld(policyParams{Cluster1ProductsReady: true}), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stderr := translateGateway(t, clean); code != 0 || strings.Contains(stderr, "diagnostic:") {
		t.Fatalf("causeway translate of the world without the conflict: exit %d, stderr:\n%s\nwant exit 0 and no diagnostics", code, stderr)
	}

	code, stderr := translateGateway(t, top.worldPath)
	diags := e2eutil.GrepLines(stderr, "diagnostic:")
	t.Logf("causeway translate: exit %d, diagnostics:\n%s", code, e2eutil.Indent(diags))
	if code != 1 {
		t.Errorf("causeway translate of the conflicting world: exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if lines := strings.Split(diags, "\n"); len(lines) != 1 || !conflictDiagnostic(lines[0]) {
		t.Errorf("diagnostics:\n%s\nwant exactly one, on VirtualDestination bookinfo/aaa-usurper, naming owner.mesh.internal.com, port 9080 and bookinfo/owner", diags)
	}

	// The serve log carries the same diagnostic (logged once per world).
	if err := e2eutil.Eventually(5*time.Second, 100*time.Millisecond, func() error {
		data, err := os.ReadFile(top.causeway.LogPath)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "configuration problem") && conflictDiagnostic(l) {
				t.Logf("causeway serve logged: %s", l)
				return nil
			}
		}
		return errors.New("no such line")
	}); err != nil {
		t.Errorf("causeway serve log has no \"configuration problem\" line for the conflict: %v; log tail:\n%s", err, top.causeway.LogTail(20))
	}
}

// conflictDiagnostic reports whether line names the losing VirtualDestination,
// the contested host and port, and the winner.
func conflictDiagnostic(line string) bool {
	loser := strings.Index(line, "VirtualDestination bookinfo/aaa-usurper")
	winner := strings.LastIndex(line, "bookinfo/owner")
	return loser >= 0 && winner > loser &&
		strings.Contains(line, "owner.mesh.internal.com") && strings.Contains(line, "9080")
}

// translateGateway runs `causeway translate` for cluster-1's gateway on
// world and returns the exit code and stderr.
func translateGateway(t *testing.T, world string) (int, string) {
	t.Helper()
	cmd := exec.Command(causewayBin, "translate", "--world", world, "--role", "gateway", "--cluster", "cluster-1", "--gateway", "bookinfo/policy-gateway")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	default:
		t.Fatal(fmt.Errorf("causeway translate: %w", err))
		return 0, ""
	}
}
