package xds

import (
	"slices"
	"sync"
	"time"
)

// sendBudget bounds the bytes of large responses in flight across all
// streams: from the send until the proxy answers (gRPC queues an encoded
// response until the proxy reads it). A burst of initial syncs of a big
// snapshot to many proxies would otherwise hold one encoded copy per
// stream. Streams whose responses do not fit queue in order and are woken
// one at a time as budget returns; meanwhile they keep reading their
// proxies' answers, which return budget.
//
// The budget bounds memory, not progress: a response holds its share for
// at most hold without an answer, and waits for one at most hold (then it
// is sent over budget). So proxies that never answer, or never read, delay
// the others' large responses by seconds, not for as long as they stall.
type sendBudget struct {
	mu    sync.Mutex
	free  int // negative while responses are sent over budget
	total int
	hold  time.Duration
	queue []*reservation
	// timedOut counts, by kind, shares returned without an answer ("hold")
	// and responses sent over budget after waiting ("wait").
	timedOut func(kind string)
}

// budgetFree is the response size below which the budget is not used:
// the routine small updates never wait.
const budgetFree = 64 << 10

// DefaultSendBudgetHold bounds how long a response holds budget without an
// answer, and how long one waits for budget.
const DefaultSendBudgetHold = 5 * time.Second

func newSendBudget(bytes int, hold time.Duration) *sendBudget {
	return &sendBudget{free: bytes, total: bytes, hold: hold, timedOut: func(string) {}}
}

// reservation is a claim on the budget: granted once ready is closed,
// returned by release (which also withdraws a claim still queued).
type reservation struct {
	b       *sendBudget
	size    int
	ready   chan struct{}
	granted bool        // under b.mu
	done    bool        // under b.mu: released or withdrawn
	timer   *time.Timer // under b.mu: the wait for a grant, then the hold
}

var grantedFree = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// reserve claims size bytes (all of the budget for a response larger
// than it), granted at once when they are free and no one is queued.
func (b *sendBudget) reserve(size int) *reservation {
	if size < budgetFree {
		return &reservation{ready: grantedFree, done: true}
	}
	r := &reservation{b: b, size: min(size, b.total), ready: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queue = append(b.queue, r)
	b.grantLocked()
	if !r.granted {
		r.timer = time.AfterFunc(b.hold, r.overBudget)
	}
	return r
}

// overBudget grants r, still queued after waiting hold, beyond the budget.
func (r *reservation) overBudget() {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.done || r.granted {
		return
	}
	b.queue = slices.DeleteFunc(b.queue, func(q *reservation) bool { return q == r })
	b.grantOneLocked(r)
	b.timedOut("wait")
}

// expire returns r's share after hold without an answer.
func (r *reservation) expire() {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if !r.granted || r.done {
		return
	}
	r.done = true
	b.free += r.size
	b.timedOut("hold")
	b.grantLocked()
}

// grantLocked grants queued reservations in order while they fit.
func (b *sendBudget) grantLocked() {
	for len(b.queue) > 0 && b.queue[0].size <= b.free {
		r := b.queue[0]
		b.queue = b.queue[1:]
		b.grantOneLocked(r)
	}
}

func (b *sendBudget) grantOneLocked(r *reservation) {
	b.free -= r.size
	r.granted = true
	if r.timer != nil {
		r.timer.Stop() // the wait's
	}
	r.timer = time.AfterFunc(b.hold, r.expire)
	close(r.ready)
}

// isGranted reports whether r may send.
func (r *reservation) isGranted() bool {
	select {
	case <-r.ready:
		return true
	default:
		return false
	}
}

// release returns a granted reservation's bytes or withdraws a queued
// one. It is idempotent.
func (r *reservation) release() {
	if r == nil || r.b == nil {
		return
	}
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	if r.timer != nil {
		r.timer.Stop()
	}
	if !r.granted {
		b.queue = slices.DeleteFunc(b.queue, func(q *reservation) bool { return q == r })
		b.grantLocked() // r may have held back smaller ones behind it
		return
	}
	b.free += r.size
	b.grantLocked()
}
