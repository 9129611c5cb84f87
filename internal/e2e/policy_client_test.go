package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/causeway-dev/causeway/internal/backend"
)

// policyClient allows more than any route timeout or backend delay the
// policy tests use, so Envoy, not the client, decides every outcome.
var policyClient = &http.Client{Timeout: 5 * time.Second}

// answer is one response through the policy gateway, whatever its status.
type answer struct {
	status int
	// fromBackend says a backend wrote the body (a backend failing on
	// purpose still does); false for Envoy's own answers (504, 503 "no
	// healthy upstream").
	fromBackend bool
	backend     backend.Response
	body        string
	took        time.Duration
}

func (a answer) String() string {
	if a.fromBackend {
		return fmt.Sprintf("%d from %s/%s (%s, peer %s)", a.status, a.backend.Cluster, a.backend.Instance, a.backend.Version, a.backend.Peer)
	}
	return fmt.Sprintf("%d from Envoy: %.100q", a.status, a.body)
}

// ok is a 200 from a backend.
func (a answer) ok() bool { return a.status == http.StatusOK && a.fromBackend }

// policyGet sends one request for path to the policy gateway proxy.
func policyGet(path string) (answer, error) {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s:%d%s", policyGatewayAddress, gatewayPort, path), nil)
	if err != nil {
		return answer{}, err
	}
	req.Host = policyHost
	start := time.Now()
	resp, err := policyClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, body: string(body), took: time.Since(start)}
	a.fromBackend = json.Unmarshal(body, &a.backend) == nil && a.backend.Instance != ""
	return a, nil
}

// directFrom accepts a 200 from cluster-1 straight from the gateway proxy.
func directFrom(a answer) bool {
	return a.ok() && a.backend.Cluster == "cluster-1" && peerHost(a.backend) == policyGatewayAddress
}

// viaEastWestOf accepts a 200 from cluster (2 or 3) through its east-west gateway.
func viaEastWestOf(cluster int) func(answer) bool {
	name, ew := fmt.Sprintf("cluster-%d", cluster), map[int]string{2: policyEastWest2, 3: policyEastWest3}[cluster]
	return func(a answer) bool { return a.ok() && a.backend.Cluster == name && peerHost(a.backend) == ew }
}

// remote accepts a 200 from cluster-2 or cluster-3 through its east-west gateway.
func remote(a answer) bool { return viaEastWestOf(2)(a) || viaEastWestOf(3)(a) }

// awaitPolicy polls path every 50 ms until an answer satisfies ok.
func awaitPolicy(t *testing.T, path string, timeout time.Duration, what string, ok func(answer) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		a, err := policyGet(path)
		switch {
		case err != nil:
			last = err.Error()
		case ok(a):
			return
		default:
			last = a.String()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s for %s within %v; last: %s", what, path, timeout, last)
}

// awaitPolicyStreak polls path every 10 ms until 20 answers in a row
// satisfy ok and returns the time from start to the arrival of the
// streak's first answer.
func awaitPolicyStreak(t *testing.T, path string, start time.Time, timeout time.Duration, what string, ok func(answer) bool) time.Duration {
	t.Helper()
	const streak = 20
	var first time.Time
	run := 0
	var last string
	for time.Since(start) < timeout {
		a, err := policyGet(path)
		answered := time.Now() // conservative: arrival, not departure
		switch {
		case err != nil:
			run, last = 0, err.Error()
		case !ok(a):
			run, last = 0, a.String()
		default:
			if run == 0 {
				first = answered
			}
			if run++; run == streak {
				return first.Sub(start)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s for %s within %v (%d in a row needed); last: %s", what, path, timeout, streak, last)
	return 0
}

// countAnswers sends n requests for path, fails t at the first one that
// is not ok, and counts answers by key.
func countAnswers(t *testing.T, path string, n int, what string, ok func(answer) bool, key func(answer) string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		a, err := policyGet(path)
		if err != nil {
			t.Fatalf("%s request %d: %v", path, i, err)
		}
		if !ok(a) {
			t.Fatalf("%s request %d: %s, want %s (so far: %v)", path, i, a, what, counts)
		}
		counts[key(a)]++
	}
	return counts
}
