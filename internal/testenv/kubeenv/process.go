package kubeenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one child process with its output in a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	// logStart is the log's size when this process started: a restart
	// appends, and only this run's lines say why this run failed.
	logStart int64
	done     chan struct{} // closed once the process is reaped
	waitErr  error
}

// startProcess starts bin with args, appending its output to logPath (a
// restarted apiserver keeps its earlier log above the new one).
func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	var logStart int64
	if fi, err := logFile.Stat(); err == nil {
		logStart = fi.Size()
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a Ctrl-C meant for `go test` does not hit the
	// servers half-way. Pdeathsig: when the test binary dies without running
	// its cleanups (a -timeout panic), the servers die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, logStart: logStart, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL to the process (by its PID) and waits for it to be
// reaped, at most 10 s.
func (p *process) kill() error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) still running 10s after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// ownLog is what this run of the process wrote to its log.
func (p *process) ownLog() ([]byte, error) {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return nil, err
	}
	if p.logStart <= int64(len(data)) {
		data = data[p.logStart:]
	}
	return data, nil
}

// logTail returns the last n lines this run of the process logged.
func (p *process) logTail(n int) string {
	data, err := p.ownLog()
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// portInUse reports whether the log says a listen failed because the port
// was taken between freePort closing it and the server binding it.
func (p *process) portInUse() bool {
	data, _ := p.ownLog()
	return strings.Contains(string(data), "address already in use")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
