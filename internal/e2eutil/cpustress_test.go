package e2eutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpuTicks is the user+system CPU time of pid in clock ticks (/proc/<pid>/stat).
func cpuTicks(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// After the command: state is field 3 of the full line, utime 14, stime 15.
	utime, err1 := strconv.Atoi(fields[11])
	stime, err2 := strconv.Atoi(fields[12])
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse %s: %v %v", s, err1, err2)
	}
	return utime + stime, nil
}

func TestCPUStressBurnsAndStops(t *testing.T) {
	procs := startCPUBurners(t, 2, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	for _, p := range procs {
		// 500 ms of a busy loop is ~50 ticks at 100 Hz even when sharing a
		// core; a sleeping process would have close to 0.
		if ticks, err := cpuTicks(p.Pid()); err != nil || ticks < 5 {
			t.Errorf("%s: %d CPU ticks after 500ms (err %v), want a busy loop", p.Name, ticks, err)
		}
	}
	for _, p := range procs {
		if err := p.Stop(); err != nil {
			t.Fatal(err)
		}
		if !p.Exited() || alive(p.Pid()) {
			t.Errorf("%s still running after Stop", p.Name)
		}
	}
}

func TestCPUStressEndsByItself(t *testing.T) {
	start := time.Now()
	procs := startCPUBurners(t, 1, 500*time.Millisecond)
	if err := Eventually(10*time.Second, 50*time.Millisecond, func() error {
		if !procs[0].Exited() {
			return fmt.Errorf("burner still running")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Errorf("burner for 500ms ended after %v", took)
	}
}

func TestCPUStressStopIsIdempotent(t *testing.T) {
	stop := StartCPUStress(t, 1, 30*time.Second)
	stop()
	stop()
}
