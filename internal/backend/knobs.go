package backend

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ModePath is the admin path that reads and sets a backend's failure mode:
//
//	GET /__backend/mode                 report the mode
//	GET /__backend/mode?status=503      answer every request with 503
//	GET /__backend/mode?delay=2s        answer every request after 2 s
//	GET /__backend/mode?reset           back to healthy (200, no delay)
//
// Parameters combine (reset applies first). Tests use it to make one
// instance fail while the others stay healthy: outlier detection, retries
// and timeouts can only be shown with instances that misbehave on demand.
const ModePath = "/__backend/mode"

// Mode is how a backend answers normal requests.
type Mode struct {
	// Status is the HTTP status of every answer; 0 means 200.
	Status int
	// Delay is how long every answer waits; 0 answers at once.
	Delay time.Duration
}

// modeJSON is Mode as ModePath reports it.
type modeJSON struct {
	Status int    `json:"status"`
	Delay  string `json:"delay"`
}

// Knobs hold a backend's failure mode; they are safe for concurrent use.
// The body of a failing answer is the usual Response, so a caller still
// sees which instance failed.
type Knobs struct {
	mu   sync.Mutex
	mode Mode
}

// Mode returns the current mode.
func (k *Knobs) Mode() Mode {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.mode
}

// SetFailStatus makes every normal request answer with status (0 or 200:
// healthy again). It panics on a status outside 200..599, a test's mistake.
func (k *Knobs) SetFailStatus(status int) {
	if err := validStatus(status); err != nil {
		panic(err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mode.Status = status
}

// SetDelay makes every normal request wait d before answering (0: no wait).
func (k *Knobs) SetDelay(d time.Duration) {
	if d < 0 {
		d = 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mode.Delay = d
}

// Reset makes the backend healthy again: 200, no delay.
func (k *Knobs) Reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mode = Mode{}
}

func validStatus(status int) error {
	if status != 0 && (status < 200 || status > 599) {
		return fmt.Errorf("status %d: want 0 or 200..599", status)
	}
	return nil
}

// serveHTTP implements ModePath. Bad parameters change nothing and answer
// 400 naming the parameter.
func (k *Knobs) serveHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var status int
	var delay time.Duration
	if v := q.Get("status"); q.Has("status") {
		var err error
		status, err = strconv.Atoi(v)
		if err == nil {
			err = validStatus(status)
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("%s: status=%q: %v", ModePath, v, err), http.StatusBadRequest)
			return
		}
	}
	if v := q.Get("delay"); q.Has("delay") {
		var err error
		delay, err = time.ParseDuration(v)
		if err == nil && delay < 0 {
			err = fmt.Errorf("negative")
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("%s: delay=%q: %v", ModePath, v, err), http.StatusBadRequest)
			return
		}
	}
	// One critical section, so concurrent calls never lose each other's change.
	k.mu.Lock()
	if q.Has("reset") {
		k.mode = Mode{}
	}
	if q.Has("status") {
		k.mode.Status = status
	}
	if q.Has("delay") {
		k.mode.Delay = delay
	}
	now := k.mode
	k.mu.Unlock()
	w.Header().Set("Connection", "close")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(modeJSON{Status: now.Status, Delay: now.Delay.String()})
}
