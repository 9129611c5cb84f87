package xds

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Logs never carry more of what a client controls (node ids, NACK
// details, resource names, type URLs, class keys derived from node
// metadata) than logValueMax bytes per value, and the lines a client can
// cause are rate-limited: per stream for NACKs, server-wide for
// connections, refusals and closed streams. The metrics still count every
// event.
const logValueMax = 256

// clip bounds a client-controlled string for a log line: a longer value
// keeps its first logValueMax bytes (cut at a rune boundary) and says how
// long it was.
func clip(s string) string {
	if len(s) <= logValueMax {
		return s
	}
	cut := logValueMax
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// logLimiter lets a burst of log lines through and then one per interval
// (a token bucket), counting the lines it drops; the next line let through
// reports them.
type logLimiter struct {
	mu         sync.Mutex
	burst      float64
	interval   time.Duration
	tokens     float64
	last       time.Time
	suppressed int
	now        func() time.Time // time.Now; tests set their own clock
}

func newLogLimiter(burst int, interval time.Duration) *logLimiter {
	return &logLimiter{burst: float64(burst), interval: interval, tokens: float64(burst), now: time.Now}
}

// allow reports whether a line may be logged now and, if so, how many were
// dropped since the last one let through.
func (l *logLimiter) allow() (ok bool, suppressed int) {
	l.mu.Lock()
	now := l.now()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.interval))
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}

// pending returns the count of lines dropped since the last one let
// through, and resets it.
func (l *logLimiter) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.suppressed
	l.suppressed = 0
	return n
}

// Rate limits of log lines clients can cause.
const (
	// nackLogEvery: a stream's first NACK is logged, then at most one per
	// interval.
	nackLogEvery = 10 * time.Second
	// Server-wide: connections and disconnections, refusals, and streams
	// closed for timeouts each pass a burst, then so many a second.
	connLogBurst, connLogEvery   = 100, 100 * time.Millisecond
	eventLogBurst, eventLogEvery = 20, time.Second
)

// serverLogs are the server-wide limiters.
type serverLogs struct {
	conns   *logLimiter // proxy connected / disconnected / unusable metadata
	refused *logLimiter // streams refused by authentication
	closed  *logLimiter // streams closed by the server (timeouts)
}

func newServerLogs() serverLogs {
	return serverLogs{
		conns:   newLogLimiter(connLogBurst, connLogEvery),
		refused: newLogLimiter(eventLogBurst, eventLogEvery),
		closed:  newLogLimiter(eventLogBurst, eventLogEvery),
	}
}

// limited logs through l: args get "suppressed" when lines were dropped.
func limited(l *logLimiter, log func(msg string, args ...any), msg string, args ...any) {
	ok, suppressed := l.allow()
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	log(msg, args...)
}
