package e2eutil

import "time"

// Eventually calls fn every interval until it returns nil, at most
// timeout/interval+1 times and never past timeout, and returns the last
// error: a bounded wait, so a broken system fails the test instead of
// hanging it.
func Eventually(timeout, interval time.Duration, fn func() error) error {
	attempts := int(timeout/interval) + 1
	deadline := time.Now().Add(timeout)
	var err error
	for i := 0; i < attempts; i++ {
		if err = fn(); err == nil {
			return nil
		}
		if time.Now().Add(interval).After(deadline) {
			break
		}
		time.Sleep(interval)
	}
	return err
}
