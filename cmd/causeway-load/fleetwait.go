package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// What the EDS and RDS client fleets share: waiting for every client's
// first ACK, and for every client's ACK of a measured change.

// waitAllSynced waits until synced counts n clients, failing on a client's
// error, ctx or timeout; what names the clients in the error.
func waitAllSynced(ctx context.Context, synced *atomic.Int64, n int, errs <-chan error, timeout time.Duration, what string) error {
	deadline := time.Now().Add(timeout)
	for int(synced.Load()) < n {
		select {
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d %s synced within %v", synced.Load(), n, what, timeout)
		}
	}
	return nil
}

// awaitAcks waits until done closes (every client ACKed the change) and
// returns each client's time, or fails on a client's error, ctx or timeout
// (left clients still waiting; failure says what they did not do).
func awaitAcks(ctx context.Context, done <-chan struct{}, errs <-chan error, timeout time.Duration, acked []atomic.Int64, left *atomic.Int64, failure string) ([]time.Duration, error) {
	select {
	case <-done:
	case err := <-errs:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(timeout):
		return nil, fmt.Errorf("%d of %d clients %s within %v", left.Load(), len(acked), failure, timeout)
	}
	out := make([]time.Duration, len(acked))
	for i := range acked {
		out[i] = time.Duration(acked[i].Load())
	}
	return out, nil
}
