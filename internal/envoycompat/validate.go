package envoycompat

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
)

// Validate writes b as JSON to dir/name.json and runs
// `envoy --mode validate` on it; the error carries Envoy's output when
// Envoy rejects the config.
func Validate(ctx context.Context, envoy string, b *bootstrapv3.Bootstrap, dir, name string) error {
	data, err := protojson.MarshalOptions{UseProtoNames: true, Multiline: true}.Marshal(b)
	if err != nil {
		return fmt.Errorf("marshal bootstrap: %w", err)
	}
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	// validate mode binds nothing and connects nowhere; no hot restart
	// keeps it from touching shared memory other Envoys use.
	cmd := exec.CommandContext(ctx, envoy, "--mode", "validate", "-c", path,
		"--disable-hot-restart", "--log-level", "warn")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s --mode validate -c %s: %w\n%s", envoy, path, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Version returns what `envoy --version` prints, trimmed.
func Version(ctx context.Context, envoy string) (string, error) {
	out, err := exec.CommandContext(ctx, envoy, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", envoy, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
