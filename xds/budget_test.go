package xds

import (
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// granted fails unless r is granted (or not, as want says).
func granted(t *testing.T, what string, r *reservation, want bool) {
	t.Helper()
	if got := r.isGranted(); got != want {
		t.Fatalf("%s: granted = %v, want %v (free %d of %d, %d queued)", what, got, want, r.b.free, r.b.total, len(r.b.queue))
	}
}

func TestSendBudget(t *testing.T) {
	const bf = budgetFree
	t.Run("small responses never wait", func(t *testing.T) {
		b := newSendBudget(2*bf, time.Hour)
		all := b.reserve(2 * bf)
		granted(t, "all of it", all, true)
		queued := b.reserve(bf)
		granted(t, "queued behind it", queued, false)
		for _, size := range []int{0, 1, bf - 1} {
			for range 100 {
				r := b.reserve(size)
				if !r.isGranted() {
					t.Fatalf("reserve(%d) waits with the budget exhausted", size)
				}
				r.release()
			}
		}
		all.release()
		granted(t, "queued after the release", queued, true)
		queued.release()
		if b.free != b.total || len(b.queue) != 0 {
			t.Errorf("free %d of %d, %d queued after every release", b.free, b.total, len(b.queue))
		}
	})
	t.Run("the threshold itself draws on the budget", func(t *testing.T) {
		b := newSendBudget(bf, time.Hour)
		first := b.reserve(bf)
		granted(t, "first", first, true)
		second := b.reserve(bf)
		granted(t, "second", second, false)
		first.release()
		select {
		case <-second.ready:
		case <-time.After(waitFor):
			t.Fatal("second not woken by the release")
		}
	})
	t.Run("queued in order", func(t *testing.T) {
		b := newSendBudget(3*bf, time.Hour)
		a := b.reserve(2 * bf)
		granted(t, "a", a, true)
		big := b.reserve(2 * bf)
		granted(t, "big, which does not fit", big, false)
		small := b.reserve(bf) // fits, but big came first
		granted(t, "small, queued behind big", small, false)
		a.release()
		granted(t, "big after a's release", big, true)
		granted(t, "small after a's release", small, true)
		big.release()
		small.release()
		if b.free != b.total {
			t.Errorf("free %d of %d after every release", b.free, b.total)
		}
	})
	t.Run("release is idempotent", func(t *testing.T) {
		b := newSendBudget(3*bf, time.Hour)
		r := b.reserve(2 * bf)
		r.release()
		r.release() // must not credit 2*bf again
		if b.free != b.total {
			t.Fatalf("free %d of %d after a double release", b.free, b.total)
		}
		granted(t, "after the double release", b.reserve(2*bf), true)
		granted(t, "one more", b.reserve(2*bf), false) // only bf is left, unless over-credited
	})
	t.Run("a withdrawn reservation is never granted", func(t *testing.T) {
		b := newSendBudget(2*bf, time.Hour)
		a := b.reserve(2 * bf)
		w := b.reserve(2 * bf)
		w.release()
		w.release()
		a.release()
		granted(t, "withdrawn", w, false)
		if b.free != b.total || len(b.queue) != 0 {
			t.Errorf("free %d of %d, %d queued", b.free, b.total, len(b.queue))
		}
	})
	t.Run("withdrawing the head of the queue lets the next through", func(t *testing.T) {
		b := newSendBudget(3*bf, time.Hour)
		a := b.reserve(bf)
		granted(t, "a", a, true)
		head := b.reserve(3 * bf)
		next := b.reserve(bf)
		granted(t, "next, behind head", next, false)
		head.release() // its stream went away
		granted(t, "next, with 2*budgetFree free and no one ahead", next, true)
	})
	t.Run("an unanswered response gives its share back after hold", func(t *testing.T) {
		b := newSendBudget(bf, 50*time.Millisecond)
		var kinds []string
		b.timedOut = func(kind string) { kinds = append(kinds, kind) }
		silent := b.reserve(bf)
		granted(t, "silent", silent, true)
		b.hold = time.Hour // the next one's: longer than the test
		start := time.Now()
		next := b.reserve(bf)
		select {
		case <-next.ready:
		case <-time.After(waitFor):
			t.Fatal("the next response still waits for a share held without an answer")
		}
		t.Logf("granted after %v", time.Since(start))
		b.mu.Lock()
		if b.free != 0 {
			t.Errorf("free %d with the next response granted, want 0 (the silent share returned)", b.free)
		}
		b.mu.Unlock()
		next.release()
		silent.release() // the late answer: no second credit
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.free != b.total || len(b.queue) != 0 {
			t.Errorf("free %d of %d, %d queued", b.free, b.total, len(b.queue))
		}
		if len(kinds) != 1 || kinds[0] != "hold" {
			t.Errorf("timeouts %v, want [hold]", kinds)
		}
	})
	t.Run("no response waits longer than hold", func(t *testing.T) {
		b := newSendBudget(bf, 50*time.Millisecond)
		var kinds []string
		b.timedOut = func(kind string) { kinds = append(kinds, kind) }
		b.hold = time.Hour // the first grant's hold: longer than the test
		held := b.reserve(bf)
		b.hold = 50 * time.Millisecond
		waiting := b.reserve(bf)
		select {
		case <-waiting.ready:
		case <-time.After(waitFor):
			t.Fatal("a queued response waits beyond hold")
		}
		b.mu.Lock()
		if b.free != -bf {
			t.Errorf("free %d while over budget, want %d", b.free, -bf)
		}
		b.mu.Unlock()
		waiting.release()
		held.release()
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.free != b.total || len(b.queue) != 0 {
			t.Errorf("free %d of %d, %d queued", b.free, b.total, len(b.queue))
		}
		if len(kinds) != 1 || kinds[0] != "wait" {
			t.Errorf("timeouts %v, want [wait]", kinds)
		}
	})
	t.Run("a response larger than the budget takes all of it", func(t *testing.T) {
		b := newSendBudget(3*bf, time.Hour)
		huge := b.reserve(100 * b.total)
		granted(t, "huge", huge, true)
		if b.free != 0 {
			t.Errorf("free %d after a response larger than the budget", b.free)
		}
		r := b.reserve(bf)
		granted(t, "after huge", r, false)
		huge.release()
		granted(t, "after huge's release", r, true)
		r.release()
		if b.free != b.total {
			t.Errorf("free %d of %d after every release", b.free, b.total)
		}
	})
}

// Over real streams: with a budget of one large response, a second proxy's
// large response waits until the first proxy answers (or goes away).
// Responses carrying a whole set do not wait: every stream sends the same
// shared encoding, so they hold no memory of their own.
func TestSendBudgetQueuesLargeResponses(t *testing.T) {
	const n = 400 // EDS above 128 KiB
	h := start(t, Options{Insecure: true, SendBudget: budgetFree})
	h.store.Publish(adsWorld(adsOpts{apps: n}))
	// Subsets of the load assignments: encoded per stream, so budgeted.
	var most, others []int
	for i := range n - 1 {
		most = append(most, i)
		others = append(others, i+1)
	}
	subset, otherSubset := apps(most...), apps(others...)

	a := h.sotw(adsNode("gw-a"))
	a.send(resource.EndpointType, "", "", subset, "")
	ra := a.expect(resource.EndpointType)
	if got := len(ra.GetResources()); got != n-1 {
		t.Fatalf("%d load assignments, want %d", got, n-1)
	}

	b := h.sotw(adsNode("gw-b"))
	b.send(resource.EndpointType, "", "", subset, "")
	b.expectNone(resource.EndpointType) // a holds the budget
	// A whole set goes out meanwhile.
	b.send(resource.ClusterType, "", "", nil, "")
	if got := len(b.expect(resource.ClusterType).GetResources()); got != n {
		t.Fatalf("%d clusters while the budget is held, want %d", got, n)
	}
	a.ack(ra, subset)
	rb := b.expect(resource.EndpointType)

	// b holds it now; a's next large response waits for b's answer.
	a.send(resource.EndpointType, ra.GetVersionInfo(), ra.GetNonce(), otherSubset, "")
	a.expectNone(resource.EndpointType)
	b.ack(rb, subset)
	a.expect(resource.EndpointType)

	// A closed stream returns its budget: c gets its response once a goes.
	c := h.sotw(adsNode("gw-c"))
	c.send(resource.EndpointType, "", "", subset, "")
	c.expectNone(resource.EndpointType)
	a.close()
	c.expect(resource.EndpointType)
}
