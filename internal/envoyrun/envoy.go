package envoyrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options describe one Envoy to start.
type Options struct {
	// Binary is the Envoy executable (see Find).
	Binary string
	// Bootstrap is the bootstrap config (YAML or JSON). Its admin section
	// must listen on AdminAddress.
	Bootstrap []byte
	// AdminAddress is host:port of the admin API, used by WaitReady and Stats.
	AdminAddress string
	// Dir holds <Name>.yaml (the bootstrap) and <Name>.log (Envoy's output).
	Dir string
	// Name names the files in Dir; it must be unique within Dir.
	Name string
	// LogLevel defaults to "info".
	LogLevel string
	// Concurrency is the number of worker threads; 0 means 1, which is
	// plenty on loopback and keeps many Envoys cheap on a small machine.
	Concurrency int
}

// Envoy is one running Envoy process.
type Envoy struct {
	opts    Options
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	waitErr error
	client  *http.Client
}

// Start writes the bootstrap to Dir/<Name>.yaml and starts Envoy in its own
// process group with its output in Dir/<Name>.log. It does not wait for
// readiness: call WaitReady.
func Start(opts Options) (*Envoy, error) {
	if opts.Binary == "" || opts.AdminAddress == "" || opts.Dir == "" || opts.Name == "" {
		return nil, errors.New("envoyrun: Binary, AdminAddress, Dir and Name are required")
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	cfg := filepath.Join(opts.Dir, opts.Name+".yaml")
	if err := os.WriteFile(cfg, opts.Bootstrap, 0o644); err != nil {
		return nil, fmt.Errorf("envoyrun: write bootstrap: %w", err)
	}
	logPath := filepath.Join(opts.Dir, opts.Name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("envoyrun: create log: %w", err)
	}
	cmd := exec.Command(opts.Binary,
		"-c", cfg,
		"--use-dynamic-base-id",
		"--log-level", opts.LogLevel,
		"--concurrency", strconv.Itoa(opts.Concurrency),
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Own process group: a Ctrl-C in the terminal of a `go test` does not
	// reach Envoy half-way, and Stop can signal the whole group it made.
	// Pdeathsig: should the caller die without calling Stop (a test binary
	// killed by -timeout), Envoy dies with it instead of holding its ports.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("envoyrun: start %s: %w", opts.Binary, err)
	}
	e := &Envoy{
		opts:    opts,
		cmd:     cmd,
		logPath: logPath,
		logFile: logFile,
		done:    make(chan struct{}),
		client:  &http.Client{Timeout: 2 * time.Second},
	}
	go func() {
		e.waitErr = cmd.Wait()
		logFile.Close()
		close(e.done)
	}()
	return e, nil
}

// Pid is the process ID of Envoy.
func (e *Envoy) Pid() int { return e.cmd.Process.Pid }

// LogPath is the file holding Envoy's output.
func (e *Envoy) LogPath() string { return e.logPath }

// AdminAddress is host:port of the admin API.
func (e *Envoy) AdminAddress() string { return e.opts.AdminAddress }

// Exited reports whether the process has ended.
func (e *Envoy) Exited() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// WaitReady polls the admin /ready endpoint until it answers 200 (Envoy
// has initialised its listeners and clusters), the process exits, ctx ends,
// or 300 attempts (about 30 s) have failed.
func (e *Envoy) WaitReady(ctx context.Context) error {
	const attempts, interval = 300, 100 * time.Millisecond
	var last error
	for i := 0; i < attempts; i++ {
		if e.Exited() {
			return fmt.Errorf("envoyrun: %s exited before ready (%v); log tail:\n%s", e.opts.Name, e.waitErr, e.LogTail(20))
		}
		body, err := e.Admin(ctx, "/ready")
		if err == nil {
			return nil
		}
		last = fmt.Errorf("%w %s", err, bytes.TrimSpace(body))
		select {
		case <-ctx.Done():
			return fmt.Errorf("envoyrun: %s not ready: %w (last: %v)", e.opts.Name, ctx.Err(), last)
		case <-time.After(interval):
		}
	}
	return fmt.Errorf("envoyrun: %s not ready after %d attempts: %v", e.opts.Name, attempts, last)
}

// Admin GETs path from the admin API and returns the body; a status other
// than 200 is an error (the body is still returned).
func (e *Envoy) Admin(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+e.opts.AdminAddress+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return body, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("admin %s: status %d", path, resp.StatusCode)
	}
	return body, nil
}

// Stop ends Envoy: SIGTERM to its process group, SIGKILL after 2 s, then
// waits for the process to be reaped. Calling it again is harmless.
func (e *Envoy) Stop() error {
	if e.Exited() {
		return nil
	}
	pid := e.Pid()
	// Negative PID: the group Start created, led by this very process.
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-e.done:
		return nil
	case <-time.After(2 * time.Second):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-e.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("envoyrun: %s (pid %d) did not exit after SIGKILL", e.opts.Name, pid)
	}
}

// LogTail returns the last n lines of Envoy's log.
func (e *Envoy) LogTail(n int) string {
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", e.logPath, err)
	}
	return tail(data, n)
}

func tail(data []byte, n int) string {
	lines := strings.Split(string(bytes.TrimRight(data, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
