package e2eutil

import (
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// cpuBurnScript spins in a bash builtin-only loop until $SECONDS reaches
// its first argument: no child processes, and it ends by itself even if
// nobody stops it.
const cpuBurnScript = `while (( SECONDS < $1 )); do :; done`

// StartCPUStress starts workers busy-loop processes (one core each) that
// end by themselves between max and a second or two later, for tests that
// claim to hold up on a busy machine. The returned stop ends them by PID
// and may be called more than once; t's cleanup calls it too, so they stop
// on failure as well, and like every Start child they die with the test
// binary.
func StartCPUStress(t testing.TB, workers int, max time.Duration) (stop func()) {
	t.Helper()
	procs := startCPUBurners(t, workers, max)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			for _, p := range procs {
				if err := p.Stop(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func startCPUBurners(t testing.TB, workers int, max time.Duration) []*Process {
	t.Helper()
	if workers < 1 || max <= 0 {
		t.Fatalf("StartCPUStress(%d workers, %v): want at least one worker and a positive duration", workers, max)
	}
	// $SECONDS counts whole wall-clock seconds, so its first tick can come
	// after a few milliseconds: one more keeps the loop running at least max.
	secs := int(math.Ceil(max.Seconds())) + 1
	dir := t.TempDir()
	procs := make([]*Process, workers)
	for i := range procs {
		name := fmt.Sprintf("cpu-burn-%d", i)
		// "bash" is $0; the deadline is $1.
		procs[i] = Start(t, name, filepath.Join(dir, name+".log"), "bash", "-c", cpuBurnScript, "bash", fmt.Sprint(secs))
	}
	return procs
}
