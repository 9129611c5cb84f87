package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/causeway-dev/causeway/discovery/file"
	"github.com/causeway-dev/causeway/examples/demo"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "compose" {
		err = composeMain(os.Args[2:], os.Stdout)
	} else {
		err = demoMain(os.Args[1:], os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "causeway-demo: %v\n", err)
		os.Exit(1)
	}
}

func demoMain(args []string, stdin io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("causeway-demo", flag.ContinueOnError)
	worldFlag := fs.String("world", "", "world file to run (default: the embedded examples/demo/world.yaml)")
	check := fs.Bool("check", false, "run the scripted failover scenario instead of the prompt; exit 1 if it fails")
	cfg := config{}
	fs.StringVar(&cfg.WorkDir, "work-dir", filepath.Join(".cache", "demo"), "directory for the world copy, logs and the CA")
	fs.StringVar(&cfg.CausewayBin, "causeway-bin", "", "causeway binary (default: go build ./cmd/causeway into the work dir)")
	fs.StringVar(&cfg.EnvoyBin, "envoy", "", "Envoy binary (default: $"+envoyrun.EnvBinary+" or .venv/bin/envoy)")
	fs.StringVar(&cfg.XDSAddress, "xds-address", "127.0.0.1:18000", "address causeway serves xDS on")
	fs.StringVar(&cfg.MetricsAddress, "metrics-address", "127.0.0.1:9091", "address of causeway's /metrics and /healthz")
	fs.StringVar(&cfg.EnvoyLogLevel, "envoy-log-level", "info", "Envoy log level")
	if err := fs.Parse(args); err != nil {
		return err
	}

	// Envoy first: on a fresh clone it is what is missing, and nothing
	// should be built or written before saying so.
	if cfg.EnvoyBin == "" {
		var err error
		if cfg.EnvoyBin, err = envoyrun.Find(); err != nil {
			return fmt.Errorf("%w (or pass --envoy)", err)
		}
	}
	name, data := "examples/demo/world.yaml (embedded)", demo.World
	if *worldFlag != "" {
		var err error
		name = *worldFlag
		if data, err = os.ReadFile(name); err != nil {
			return err
		}
	}
	world, err := file.Parse(name, data)
	if err != nil {
		return err
	}
	topo, err := topologyFrom(world)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return err
	}
	if cfg.WorkDir, err = filepath.Abs(cfg.WorkDir); err != nil {
		return err
	}
	// The world gets a directory of its own: causeway watches the directory,
	// and Envoy logs written next to it would keep waking the watcher.
	worldPath := filepath.Join(cfg.WorkDir, "world", "world.yaml")
	if err := os.MkdirAll(filepath.Dir(worldPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(worldPath, data, 0o644); err != nil {
		return err
	}
	if cfg.CausewayBin == "" {
		if cfg.CausewayBin, err = buildCauseway(cfg.WorkDir, out); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ps, err := start(ctx, cfg, worldPath, topo, out)
	if err != nil {
		return err
	}
	defer ps.stop()

	s, err := newScenario(topo, world, worldPath, out)
	if err != nil {
		return err
	}
	s.printTopology()
	if *check {
		if err := s.check(ctx); err != nil {
			return fmt.Errorf("check failed: %w\n%s", err, s.diagnose(ctx, ps))
		}
		fmt.Fprintln(out, "check passed")
		return nil
	}
	if err := s.converge(ctx, s.reviews, func(a answer) bool { return a.Failure == "" }, "first answer"); err != nil {
		return fmt.Errorf("%w\n%s", err, s.diagnose(ctx, ps))
	}
	s.intro()
	s.menu(ctx, stdin)
	fmt.Fprintln(out, "stopping every process")
	return nil
}

// buildCauseway builds the control plane into dir.
func buildCauseway(dir string, out io.Writer) (string, error) {
	bin := filepath.Join(dir, "causeway")
	fmt.Fprintln(out, "building ./cmd/causeway")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/causeway-dev/causeway/cmd/causeway")
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", errors.New("go build ./cmd/causeway failed (run from the repository, or pass --causeway-bin)")
	}
	return bin, nil
}
