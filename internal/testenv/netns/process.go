package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a process running inside a Namespace. The Namespace reaps it;
// do not call Cmd.Wait.
type Process struct {
	// Name is the program's base name, for messages.
	Name string
	// Cmd is the started command (`ip netns exec NS program args...`;
	// ip execs the program, so Cmd.Process.Pid is the program's PID).
	Cmd *exec.Cmd
	// LogPath holds the process's stdout and stderr.
	LogPath string

	done    chan struct{}
	waitErr error
}

// Exec starts program with args inside the namespace, its output going to
// a log file. ctx ending kills it; so does the namespace's cleanup.
func (ns *Namespace) Exec(ctx context.Context, program string, args ...string) (*Process, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	logPath := ns.logPath(program, len(ns.procs))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, program}, args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig: should the test binary die without cleanups (a -timeout
	// panic), the process dies with it instead of holding the namespace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("netns %s: start %s: %w", ns.Name, program, err)
	}
	p := &Process{Name: program, Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	ns.procs = append(ns.procs, p)
	return p, nil
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended (and been reaped).
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended; nil while it runs.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.waitErr
}

// Stop kills the process by PID (SIGKILL) and waits, at most 10 s, until it
// is reaped. Stopping an ended process does nothing.
func (p *Process) Stop() error {
	if p.Exited() {
		return nil
	}
	if err := p.Cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.Name, p.Pid(), err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) still running 10s after SIGKILL", p.Name, p.Pid())
	}
}

// LogTail returns the last n lines of the process's output.
func (p *Process) LogTail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.LogPath, err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
