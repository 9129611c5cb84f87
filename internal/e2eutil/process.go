package e2eutil

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// StopGrace is how long Stop waits after SIGTERM before sending SIGKILL.
const StopGrace = 3 * time.Second

// Process is a subprocess started by a test, in its own process group,
// with its output in a file.
type Process struct {
	// Name names the process in messages.
	Name string
	// LogPath holds the process's stdout and stderr.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts bin with args, output to logPath, and registers a cleanup
// on t that stops it by PID. The process leads its own process group (a
// Ctrl-C meant for `go test` does not reach it half-way, and Stop signals
// the whole group) and gets SIGKILL should the test binary die first.
func Start(t testing.TB, name, logPath, bin string, args ...string) *Process {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = SysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// SysProcAttr is what every child of an end-to-end test runs with: its own
// process group, and SIGKILL when the test binary dies without cleanups.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended and been reaped.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group it leads, SIGKILL after
// StopGrace, and waits for it to be reaped. Stopping an ended process does
// nothing.
func (p *Process) Stop() error {
	if p.Exited() {
		return nil
	}
	pid := p.Pid()
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(StopGrace):
	}
	return p.killGroup()
}

// LogTail returns the last n lines of the process's output.
func (p *Process) LogTail(n int) string { return FileTail(p.LogPath, n) }

// Kill sends SIGKILL to the process group it leads, as `kill -9` would
// (no chance to clean up), and waits for it to be reaped.
func (p *Process) Kill() error {
	if p.Exited() {
		return nil
	}
	return p.killGroup()
}

// killGroup sends SIGKILL to the process group and waits for the reap.
func (p *Process) killGroup() error {
	pid := p.Pid()
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.Name, pid)
	}
}
