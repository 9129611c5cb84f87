package e2eutil

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

// LoadSpec is a steady request rate StartLoad sends, open loop: a slow
// answer does not delay the next request, so a stall shows as failures.
type LoadSpec struct {
	// URL is requested with GET, its Host header set to Host when not
	// empty. Ignored when Request is set.
	URL, Host string
	// Request builds each request instead, for other methods or headers.
	Request func() (*http.Request, error)
	// Rate is requests per second; 0 means 50.
	Rate float64
	// Max bounds the run: no request starts after it, even without Stop.
	Max time.Duration
	// Timeout bounds each request, body included; 0 means 2 s.
	Timeout time.Duration
	// Classify names the answer (which backend answered, say) or returns
	// an error to count it as failed. Nil: status 200 is "ok", anything
	// else fails. The body it sees is read up to 64 KiB.
	Classify func(status int, body []byte) (class string, err error)
	// TLS is the client's TLS configuration for https URLs.
	TLS *tls.Config
	// FreshConnections opens a new connection (and TLS handshake) for
	// every request instead of keeping connections alive.
	FreshConnections bool
	// Dial, when set, opens the load's connections instead of the
	// loopback-only dialer (from inside a test's network namespace, say);
	// it must itself keep the traffic on the test's own addresses.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Answer is one request's outcome.
type Answer struct {
	// At is when the request was sent, Took how long until its outcome.
	At   time.Time
	Took time.Duration
	// Class is Classify's name for a good answer; Err is set for a failure.
	Class string
	Err   string
}

// LoadResult sums up a load run.
type LoadResult struct {
	Total, Failed int
	// Failures holds the first MaxLoadFailuresKept failures in send order.
	Failures []Answer
	// ByClass counts good answers by class.
	ByClass map[string]int
	Elapsed time.Duration
}

// MaxLoadFailuresKept bounds LoadResult.Failures.
const MaxLoadFailuresKept = 20

// Load is a running load; see StartLoad.
type Load struct {
	spec     LoadSpec
	client   *http.Client
	start    time.Time
	stopSend chan struct{}
	sent     sync.WaitGroup // the sender and every request in flight

	mu      sync.Mutex
	answers []Answer

	stopOnce sync.Once
	result   LoadResult
}

// StartLoad sends spec's requests until Stop, Max or the end of t. Requests
// may only go to loopback addresses (unless spec.Dial says otherwise): the
// dialer refuses anything else, and that counts as a failure. Connections are kept alive, as a real client
// would; every request is bounded by Timeout, so at most Rate×Timeout are
// in flight.
func StartLoad(t testing.TB, spec LoadSpec) *Load {
	t.Helper()
	if spec.Rate == 0 {
		spec.Rate = 50
	}
	if spec.Timeout == 0 {
		spec.Timeout = 2 * time.Second
	}
	if spec.Rate < 0 || spec.Rate > 1000 || spec.Max <= 0 {
		t.Fatalf("StartLoad: rate %v/s and max %v: want a rate up to 1000/s and a positive max", spec.Rate, spec.Max)
	}
	if spec.Request == nil {
		if _, err := http.NewRequest(http.MethodGet, spec.URL, nil); err != nil {
			t.Fatalf("StartLoad: %v", err)
		}
	}
	dial := (&net.Dialer{Timeout: spec.Timeout, Control: loopbackOnly}).DialContext
	if spec.Dial != nil {
		dial = spec.Dial
	}
	transport := &http.Transport{
		DialContext:         dial,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
		TLSClientConfig:     spec.TLS,
		DisableKeepAlives:   spec.FreshConnections,
	}
	l := &Load{
		spec:     spec,
		client:   &http.Client{Transport: transport, Timeout: spec.Timeout},
		start:    time.Now(),
		stopSend: make(chan struct{}),
		answers:  make([]Answer, 0, int(spec.Rate*spec.Max.Seconds())+1),
	}
	l.sent.Add(1)
	go l.send()
	t.Cleanup(func() { l.Stop() })
	return l
}

// loopbackOnly is a net.Dialer Control refusing non-loopback addresses.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load generator: %s is not a loopback address", address)
	}
	return nil
}

func (l *Load) send() {
	defer l.sent.Done()
	tick := time.NewTicker(time.Duration(float64(time.Second) / l.spec.Rate))
	defer tick.Stop()
	end := time.NewTimer(l.spec.Max)
	defer end.Stop()
	for {
		l.sent.Add(1)
		go l.one()
		select {
		case <-tick.C:
		case <-end.C:
			return
		case <-l.stopSend:
			return
		}
	}
}

func (l *Load) one() {
	defer l.sent.Done()
	a := Answer{At: time.Now()}
	a.Class, a.Err = l.do()
	a.Took = time.Since(a.At)
	l.mu.Lock()
	l.answers = append(l.answers, a)
	l.mu.Unlock()
}

func (l *Load) do() (class, failure string) {
	var req *http.Request
	var err error
	if l.spec.Request != nil {
		req, err = l.spec.Request()
	} else {
		req, err = http.NewRequest(http.MethodGet, l.spec.URL, nil)
		if err == nil && l.spec.Host != "" {
			req.Host = l.spec.Host
		}
	}
	if err != nil {
		return "", err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.spec.Timeout)
	defer cancel()
	resp, err := l.client.Do(req.WithContext(ctx))
	if err != nil {
		return "", err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Sprintf("status %d, reading body: %v", resp.StatusCode, err)
	}
	if l.spec.Classify == nil {
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Sprintf("status %d: %.200s", resp.StatusCode, body)
		}
		return "ok", ""
	}
	class, err = l.spec.Classify(resp.StatusCode, body)
	if err != nil {
		return "", fmt.Sprintf("status %d: %v", resp.StatusCode, err)
	}
	return class, ""
}

// Answers returns the outcomes so far, in the order the requests were sent.
func (l *Load) Answers() []Answer {
	l.mu.Lock()
	out := append([]Answer(nil), l.answers...)
	l.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// AwaitStreak waits at most timeout for n answers in a row, sent after
// since, that match; first is the earliest matching answer sent after
// since, streak the first answer of the streak (both as offsets from
// since). Failures and other classes break a streak.
func (l *Load) AwaitStreak(since time.Time, n int, match func(Answer) bool, timeout time.Duration) (first, streak time.Duration, err error) {
	err = Eventually(timeout, 50*time.Millisecond, func() error {
		var ok bool
		first, streak, ok = FirstStreak(l.Answers(), since, n, match)
		if !ok {
			return fmt.Errorf("no %d matching answers in a row within %v (%s)", n, timeout, l.summary(since))
		}
		return nil
	})
	return first, streak, err
}

// summary counts answers sent after since by class and failure, for a
// message.
func (l *Load) summary(since time.Time) string {
	counts := map[string]int{}
	for _, a := range l.Answers() {
		if a.At.Before(since) {
			continue
		}
		if a.Err != "" {
			counts["failed"]++
		} else {
			counts[a.Class]++
		}
	}
	return fmt.Sprint(counts)
}

// FirstStreak finds, among answers sent after since (in send order), the
// first that matches and the start of the first run of n matching ones.
func FirstStreak(answers []Answer, since time.Time, n int, match func(Answer) bool) (first, streak time.Duration, ok bool) {
	run := 0
	var runStart time.Time
	seen := false
	for _, a := range answers {
		if a.At.Before(since) {
			continue
		}
		if a.Err != "" || !match(a) {
			run = 0
			continue
		}
		if !seen {
			first, seen = a.At.Sub(since), true
		}
		if run == 0 {
			runStart = a.At
		}
		if run++; run == n {
			return first, runStart.Sub(since), true
		}
	}
	return first, 0, false
}

// Stop stops sending, waits for the requests in flight (each bounded by
// Timeout) and sums up. Later calls return the same result.
func (l *Load) Stop() LoadResult {
	l.stopOnce.Do(func() {
		close(l.stopSend)
		l.sent.Wait()
		l.client.CloseIdleConnections()
		r := LoadResult{ByClass: map[string]int{}, Elapsed: time.Since(l.start)}
		for _, a := range l.Answers() {
			r.Total++
			if a.Err == "" {
				r.ByClass[a.Class]++
				continue
			}
			if r.Failed++; len(r.Failures) < MaxLoadFailuresKept {
				r.Failures = append(r.Failures, a)
			}
		}
		l.result = r
	})
	return l.result
}

// String is a one-line summary for a log.
func (r LoadResult) String() string {
	return fmt.Sprintf("%d requests in %v, %d failed, by class %v", r.Total, r.Elapsed.Round(time.Millisecond), r.Failed, r.ByClass)
}

// FailureLines lists the kept failures, times relative to start, for a message.
func (r LoadResult) FailureLines(start time.Time) string {
	s := ""
	for _, f := range r.Failures {
		s += fmt.Sprintf("  +%v (took %v): %s\n", f.At.Sub(start).Round(time.Millisecond), f.Took.Round(time.Millisecond), f.Err)
	}
	if r.Failed > len(r.Failures) {
		s += fmt.Sprintf("  ... and %d more\n", r.Failed-len(r.Failures))
	}
	return s
}
