package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
	"github.com/causeway-dev/causeway/internal/bootstrap"
	"github.com/causeway-dev/causeway/internal/envoyrun"
)

// config is what the demo needs to start its processes.
type config struct {
	CausewayBin    string // built when empty
	EnvoyBin       string
	WorkDir        string // world.yaml, logs, the CA
	XDSAddress     string
	MetricsAddress string
	EnvoyLogLevel  string
}

// processes is everything the demo started, so that stop can end it all.
type processes struct {
	backends []*backend.Server
	causeway *exec.Cmd
	exited   chan struct{} // closed when causeway has exited
	envoys   []*envoyrun.Envoy
	log      io.Writer
	logPath  string // causeway's log
}

// start starts backends, the control plane and the Envoys of t, in that
// order, and waits (bounded) until each is ready. On error everything
// already started is stopped.
func start(ctx context.Context, cfg config, worldPath string, t topology, log io.Writer) (_ *processes, err error) {
	ps := &processes{log: log}
	defer func() {
		if err != nil {
			ps.stop()
		}
	}()
	for _, b := range t.Backends {
		s, err := backend.Start(b.Address, b.Info)
		if err != nil {
			return nil, fmt.Errorf("backend %s: %w", b.Name, err)
		}
		ps.backends = append(ps.backends, s)
	}
	fmt.Fprintf(log, "started %d sample backends\n", len(ps.backends))
	if err := ps.startCauseway(ctx, cfg, worldPath); err != nil {
		return nil, err
	}
	for _, p := range t.Proxies {
		bs, err := bootstrap.Build(bootstrapOptions(p, cfg.XDSAddress, p.AdminAddress()))
		if err != nil {
			return nil, fmt.Errorf("bootstrap for %s: %w", p.Name, err)
		}
		e, err := envoyrun.Start(envoyrun.Options{
			Binary: cfg.EnvoyBin, Bootstrap: bs, AdminAddress: p.AdminAddress(),
			Dir: cfg.WorkDir, Name: p.Name, LogLevel: cfg.EnvoyLogLevel,
		})
		if err != nil {
			return nil, fmt.Errorf("envoy %s: %w", p.Name, err)
		}
		ps.envoys = append(ps.envoys, e)
		fmt.Fprintf(log, "started envoy %-22s pid %-7d %s (admin %s, log %s)\n", p.Name, e.Pid(), p.Address, p.AdminAddress(), e.LogPath())
	}
	for _, e := range ps.envoys {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := e.WaitReady(wctx)
		cancel()
		if err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// bootstrapOptions is how proxy p finds the control plane: over plaintext
// xDS (--xds-insecure), like the demo's control plane; see plaintextNote.
func bootstrapOptions(p proxySpec, xdsAddress, adminAddress string) bootstrap.Options {
	return bootstrap.Options{
		Role: p.Role, Cluster: p.Cluster, Locality: p.Locality, BindAddress: p.Address, Gateway: p.Gateway,
		XDSAddress: xdsAddress, AdminAddress: adminAddress, NodeID: p.Name,
		Security: bootstrap.Security{Insecure: true},
	}
}

// plaintextNote is what the demo says about its xDS transport, so nobody
// takes its setup as a template for production.
const plaintextNote = "NOTE: the demo runs plaintext xDS without authentication (causeway serve --xds-insecure) for development; " +
	"real deployments use TLS with client certificates or service-account tokens (README, Security)"

// startCauseway runs `causeway serve` in its own process group (a Ctrl-C
// reaches the demo, which then stops it in order) and waits for /healthz.
func (ps *processes) startCauseway(ctx context.Context, cfg config, worldPath string) error {
	logPath := filepath.Join(cfg.WorkDir, "causeway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(cfg.CausewayBin, "serve",
		"--world", worldPath,
		"--xds-address", cfg.XDSAddress,
		"--metrics-address", cfg.MetricsAddress,
		"--ca-dir", filepath.Join(cfg.WorkDir, "ca"),
		"--xds-insecure", // development only: see plaintextNote
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", cfg.CausewayBin, err)
	}
	ps.causeway, ps.exited, ps.logPath = cmd, make(chan struct{}), logPath
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(ps.exited)
	}()
	fmt.Fprintf(ps.log, "started causeway serve pid %d (xDS %s, metrics %s, log %s)\n", cmd.Process.Pid, cfg.XDSAddress, cfg.MetricsAddress, logPath)
	fmt.Fprintln(ps.log, plaintextNote)

	client := &http.Client{Timeout: time.Second}
	url := "http://" + cfg.MetricsAddress + "/healthz"
	for i := 0; i < 100; i++ { // about 20 s
		select {
		case <-ps.exited:
			return fmt.Errorf("causeway serve exited (%v); log tail:\n%s", cmd.ProcessState, tailFile(logPath, 20))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("causeway serve: %s not healthy after 20 s; log tail:\n%s", url, tailFile(logPath, 20))
}

// stop ends every process by PID: Envoys first (they would only log
// reconnect attempts otherwise), then the control plane, then backends.
func (ps *processes) stop() {
	var errs []error
	for _, e := range ps.envoys {
		if err := e.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if ps.causeway != nil {
		errs = append(errs, stopCmd(ps.causeway, ps.exited))
	}
	for _, b := range ps.backends {
		errs = append(errs, b.Close())
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(ps.log, "stopping: %v\n", err)
	}
}

// stopCmd sends SIGTERM to cmd's PID, SIGKILL after 5 s, and waits.
func stopCmd(cmd *exec.Cmd, exited <-chan struct{}) error {
	select {
	case <-exited:
		return nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	_ = cmd.Process.Kill()
	select {
	case <-exited:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", cmd.Path, cmd.Process.Pid)
	}
}

// envoyFor returns the running Envoy of proxy name, or nil.
func (ps *processes) envoyFor(t topology, name string) *envoyrun.Envoy {
	for i, p := range t.Proxies {
		if p.Name == name && i < len(ps.envoys) {
			return ps.envoys[i]
		}
	}
	return nil
}

func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ") + "\n"
}
