package e2esec

import (
	"sync"
	"time"
)

// traffic sends requests through gateway → east-west → backend back to
// back until stopped, counting failures: the measure of "keeps working".
type traffic struct {
	stop     chan struct{}
	done     sync.WaitGroup
	mu       sync.Mutex
	ok, fail int
	failures []string // the first few
}

func startTraffic() *traffic {
	tr := &traffic{stop: make(chan struct{})}
	tr.done.Add(1)
	go func() {
		defer tr.done.Done()
		for {
			select {
			case <-tr.stop:
				return
			default:
			}
			err := getReviews()
			tr.mu.Lock()
			if err != nil {
				tr.fail++
				if len(tr.failures) < 5 {
					tr.failures = append(tr.failures, time.Now().Format("15:04:05.000")+" "+err.Error())
				}
			} else {
				tr.ok++
			}
			tr.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return tr
}

// finish stops the traffic and returns the counts.
func (tr *traffic) finish() (ok, fail int, failures []string) {
	close(tr.stop)
	tr.done.Wait()
	return tr.ok, tr.fail, tr.failures
}
