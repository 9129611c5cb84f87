package e2eutil

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "sh.log")
	// Ignores SIGTERM, so Stop must escalate to SIGKILL.
	p := Start(t, "sh", logPath, "sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.1; done")
	if err := Eventually(5*time.Second, 20*time.Millisecond, func() error {
		if got := p.LogTail(1); got != "started" {
			return fmt.Errorf("log tail %q", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if p.Exited() {
		t.Fatal("exited before Stop")
	}
	pid := p.Pid()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Error("not Exited after Stop")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) after Stop = %v, want ESRCH", pid, err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop = %v", err)
	}
}

func TestKill(t *testing.T) {
	// Ignores SIGTERM, which Kill must not need.
	p := Start(t, "sh", filepath.Join(t.TempDir(), "sh.log"), "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done")
	start := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= StopGrace {
		t.Errorf("Kill took %v: it waited for SIGTERM's grace", took)
	}
	if !p.Exited() || alive(p.Pid()) {
		t.Error("still running after Kill")
	}
	if err := p.Kill(); err != nil {
		t.Errorf("second Kill = %v", err)
	}
}

const envPdeathsigChild = "E2EUTIL_PDEATHSIG_CHILD"

// TestPdeathsigChild is not a test on its own: TestPdeathsig runs the test
// binary with it, as a stand-in for a test binary killed by -timeout.
func TestPdeathsigChild(t *testing.T) {
	if os.Getenv(envPdeathsigChild) != "1" {
		t.Skip("helper for TestPdeathsig")
	}
	p := Start(t, "sleep", filepath.Join(t.TempDir(), "sleep.log"), "sleep", "120")
	fmt.Printf("pid %d\n", p.Pid())
	select {} // until killed
}

// TestPdeathsig kills a test binary that started a child with Start, with
// no chance to run cleanups, and checks the child died with it.
func TestPdeathsig(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestPdeathsigChild$", "-test.v")
	cmd.Env = append(os.Environ(), envPdeathsigChild+"=1")
	cmd.SysProcAttr = SysProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pids := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "pid "); ok {
				if pid, err := strconv.Atoi(rest); err == nil {
					pids <- pid
				}
			}
		}
	}()
	var child int
	select {
	case child = <-pids:
	case <-time.After(20 * time.Second):
		t.Fatal("helper test binary never reported its child's PID")
	}
	if !alive(child) {
		t.Fatalf("child %d not running before its parent was killed", child)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := Eventually(5*time.Second, 20*time.Millisecond, func() error {
		if alive(child) {
			return fmt.Errorf("child %d still running after its parent was killed", child)
		}
		return nil
	}); err != nil {
		syscall.Kill(child, syscall.SIGKILL)
		t.Fatal(err)
	}
}

// alive reports whether pid runs; a zombie (dead, not yet reaped by
// whoever inherited it) does not count.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}
