package e2eutil

import (
	"runtime"
	"testing"
	"time"
)

// StressedLoad is a load (StartLoad) sent while every core is kept busy
// (StartCPUStress): the chaos suite's condition for "no request fails".
type StressedLoad struct {
	*Load
	// Start is when the load started; failure times count from it.
	Start  time.Time
	stress func()
}

// StartStressedLoad starts one busy loop per core and spec's load, both
// for at most spec.Max; Finish, or t's cleanup, ends them sooner.
func StartStressedLoad(t testing.TB, spec LoadSpec) *StressedLoad {
	t.Helper()
	stress := StartCPUStress(t, runtime.NumCPU(), spec.Max)
	return &StressedLoad{Load: StartLoad(t, spec), Start: time.Now(), stress: stress}
}

// Finish stops the load, waiting for the requests in flight, then the
// stress, and returns the load's result and its slowest answer.
func (s *StressedLoad) Finish() (LoadResult, Answer) {
	res := s.Stop()
	s.stress()
	var slowest Answer
	for _, a := range s.Answers() {
		if a.Took > slowest.Took {
			slowest = a
		}
	}
	return res, slowest
}

// CheckNoFailures fails t unless res has answers and none failed, listing
// the failures with their times from Start.
func (s *StressedLoad) CheckNoFailures(t testing.TB, res LoadResult, during string) {
	t.Helper()
	if res.Failed > 0 || res.Total == 0 {
		t.Errorf("%d of %d requests failed during %s, want none (times from the start of the load):\n%s",
			res.Failed, res.Total, during, res.FailureLines(s.Start))
	}
}

// Count counts the good answers of class sent in [from, to).
func (s *StressedLoad) Count(class string, from, to time.Time) int {
	n := 0
	for _, a := range s.Answers() {
		if a.Err == "" && a.Class == class && !a.At.Before(from) && a.At.Before(to) {
			n++
		}
	}
	return n
}
