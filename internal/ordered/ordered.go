package ordered

import (
	"runtime"
	"sync"
)

// batchPerWorker bounds how far work runs ahead of use: at most
// GOMAXPROCS × batchPerWorker results are held at once.
const batchPerWorker = 32

// Each calls work(i) for every i in [0, n) on up to GOMAXPROCS goroutines
// and use(i, result) in order of i, one at a time on the calling
// goroutine. The first error use returns stops the run (work already
// started finishes) and is returned. work must not depend on other steps.
func Each[T any](n int, work func(i int) T, use func(i int, v T) error) error {
	workers := runtime.GOMAXPROCS(0)
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			if err := use(i, work(i)); err != nil {
				return err
			}
		}
		return nil
	}
	batch := make([]T, min(n, workers*batchPerWorker))
	for start := 0; start < n; start += len(batch) {
		m := min(len(batch), n-start)
		var wg sync.WaitGroup
		next := make(chan int, m)
		for j := 0; j < m; j++ {
			next <- j
		}
		close(next)
		for w := 0; w < min(workers, m); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					batch[j] = work(start + j)
				}
			}()
		}
		wg.Wait()
		for j := 0; j < m; j++ {
			v := batch[j]
			var zero T
			batch[j] = zero // let use's caller drop it
			if err := use(start+j, v); err != nil {
				return err
			}
		}
	}
	return nil
}
