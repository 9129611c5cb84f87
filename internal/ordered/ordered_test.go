package ordered

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
)

func TestEachKeepsOrder(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		for _, n := range []int{0, 1, 5, 64, 1000} {
			prev := runtime.GOMAXPROCS(procs)
			var got []int
			err := Each(n, func(i int) int { return i * i }, func(i, v int) error {
				if v != i*i {
					t.Errorf("procs %d n %d: use(%d, %d), want %d", procs, n, i, v, i*i)
				}
				got = append(got, i)
				return nil
			})
			runtime.GOMAXPROCS(prev)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Fatalf("procs %d n %d: %d uses", procs, n, len(got))
			}
			for i, v := range got {
				if v != i {
					t.Fatalf("procs %d n %d: use %d was step %d", procs, n, i, v)
				}
			}
		}
	}
}

func TestEachStopsAtFirstError(t *testing.T) {
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	stop := errors.New("stop")
	var worked atomic.Int64
	used := 0
	err := Each(100000, func(i int) int { worked.Add(1); return i }, func(i, _ int) error {
		used++
		if i == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || used != 11 {
		t.Fatalf("err %v after %d uses, want stop after 11", err, used)
	}
	if worked.Load() >= 100000 {
		t.Fatalf("all %d steps ran after the error", worked.Load())
	}
}

func TestEachRunsInParallel(t *testing.T) {
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	var running, most atomic.Int64
	release := make(chan struct{})
	go func() {
		for running.Load() < 2 {
			runtime.Gosched()
		}
		close(release)
	}()
	_ = Each(4, func(int) int {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		running.Add(-1)
		return 0
	}, func(int, int) error { return nil })
	if most.Load() < 2 {
		t.Fatalf("at most %d steps ran at once, want 2", most.Load())
	}
}
